#!/usr/bin/env node
// A local Socket.IO push server for the case-B examples: a ticket API that
// hands each user a node address and a token, then auth and group broadcast
// over Socket.IO, like the push service the examples recreate.
// Usage: node examples/targets/socketio-target.js [--port N] [--v2] [--nodes K]
//   --port N   port of the first node and of the ticket API (default 3000; 0 = any free port)
//   --v2       serve socket.io@2 (Engine.IO v3) instead of socket.io v4
//   --nodes K  Socket.IO nodes on K ports; tickets spread users over them by userId mod K (default 1)
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { Server as ServerV4 } from 'socket.io';

const require = createRequire(import.meta.url);
const { values } = parseArgs({
  options: { port: { type: 'string', default: '3000' }, v2: { type: 'boolean', default: false }, nodes: { type: 'string', default: '1' } },
});
const firstPort = Number(values.port);
const nodeCount = Number(values.nodes);
if (!Number.isInteger(firstPort) || firstPort < 0 || firstPort > 65535) throw new Error(`bad --port ${values.port}`);
if (!Number.isInteger(nodeCount) || nodeCount < 1) throw new Error(`bad --nodes ${values.nodes}`);
const version = values.v2 ? 'v2' : 'v4';
// A fresh object per server: socket.io@2 writes into the one it gets (allowRequest, initialPacket).
const ioOptions = () => ({ path: '/socket.io', perMessageDeflate: false, serveClient: false });

/** The node index a user's ticket points at: numeric ids mod K, other ids by a string hash. */
function nodeFor(userId) {
  const numeric = Number(userId);
  if (Number.isSafeInteger(numeric) && numeric >= 0) return numeric % nodeCount;
  let hash = 0;
  for (const char of userId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % nodeCount;
}

/** Answers `GET /ticket?userId=` on the first node; every other path is 404. */
function ticketHandler(urls) {
  return (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const reply = (status, body) => {
      const text = JSON.stringify(body);
      response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      response.end(text);
    };
    if (request.method !== 'GET' || url.pathname !== '/ticket' || urls.length === 0) return reply(404, { error: 'not found' });
    const userId = url.searchParams.get('userId');
    if (userId === null || userId === '') return reply(400, { error: 'missing userId' });
    return reply(200, { url: urls[nodeFor(userId)], token: `t-${userId}` });
  };
}

/** Case B's events on one socket: `auth` joins the group room, `msg` type 1 broadcasts to it. */
function onConnection(socket) {
  let user;
  socket.on('auth', (payload) => {
    const { id, groupId, token } = payload !== null && typeof payload === 'object' ? payload : {};
    if (id === undefined || groupId === undefined || String(token) !== `t-${String(id)}`) {
      socket.emit('auth_result', { success: false, reason: 'bad token' });
      return;
    }
    if (user !== undefined) socket.leave(`g${String(user.groupId)}`);
    user = { id, groupId };
    socket.join(`g${String(groupId)}`);
    socket.emit('auth_result', { success: true });
  });
  socket.on('msg', (payload, ack) => {
    const answer = (result) => {
      if (typeof ack === 'function') ack(result);
      socket.emit('msg_result', result);
    };
    if (user === undefined) return answer({ success: false, reason: 'not authed' });
    const message = payload !== null && typeof payload === 'object' ? payload : {};
    if (String(message.type) !== '1') return answer({ success: false, reason: 'unsupported type' });
    // The room is the sender's group, whatever groupId the message names. Group members
    // may sit on any node: all nodes share this process, so emit on each (a shared adapter).
    const room = `g${String(user.groupId)}`;
    for (const node of nodes) node.io.to(room).emit('msg', { from: user.id, groupId: user.groupId, type: 1, content: message.content });
    return answer({ success: true });
  });
}

/** Starts one node: an HTTP server with Socket.IO attached. Resolves with its port. */
function startNode(port, handler) {
  const http = createServer(handler);
  const io = values.v2 ? require('socket.io-v2')(http, ioOptions()) : new ServerV4(http, ioOptions());
  io.on('connection', onConnection);
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve({ http, io, port: http.address().port }));
  });
}

const nodes = [];
const urls = [];
// Registered before the nodes start, so a signal during start-up also exits 0.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const node of nodes) node.io.close();
    process.exit(0);
  });
}
nodes.push(await startNode(firstPort, ticketHandler(urls)));
for (let i = 1; i < nodeCount; i += 1) nodes.push(await startNode(0, (_request, response) => response.writeHead(404).end()));
urls.push(...nodes.map((node) => `http://127.0.0.1:${node.port}`));
process.stdout.write(`socket.io target listening on ${urls[0]} (socket.io ${version}, ${nodeCount} node(s))\n`);
