#!/usr/bin/env node
// bench/ws-capacity/mini-sio-server.mjs: the least a server must do to speak
// Socket.IO v4 (Engine.IO 4) over the websocket transport, on `ws`, so that a
// client's own ceiling shows when the real socket.io server is the bottleneck.
//
//   handshake  GET /socket.io/?EIO=4&transport=websocket → 0{"sid",...}
//   namespace  40 or 40{auth} → 40{"sid"}; 41 closes
//   heartbeat  the server pings (2) each socket every --ping-interval ms
//              (one shared 1 s sweep, never a timer per socket); a socket
//              silent for pingInterval + pingTimeout is dropped
//   case B     42["auth",{id,groupId,token}] → joins room groupId (token must be
//              "t-<id>", as examples/targets/socketio-target.js checks) and
//              answers 42["auth_result",{"success":true}];
//              42["msg",{type:1,content}] → 42["msg",{from,groupId,type,content}]
//              to every member of the sender's room (the sender too), then
//              42["msg_result",{"success":true}] to the sender
//
// Fan-out builds the WebSocket frame once and writes it to each member's
// corked socket; sockets are uncorked once per event-loop turn (setImmediate),
// so broadcasts arriving in one turn leave in one write per member. This is
// what keeps one server core ahead of one client core in the broadcast bench.
//
// Usage: node mini-sio-server.mjs [--port 0] [--ping-interval 25000]
//        [--ping-timeout 20000] [--backlog 4096]
// Prints "mini socket.io server listening on http://127.0.0.1:PORT" when ready.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'ping-interval': { type: 'string', default: '25000' },
    'ping-timeout': { type: 'string', default: '20000' },
    backlog: { type: 'string', default: '4096' },
  },
});
const pingIntervalMs = Number(values['ping-interval']);
const pingTimeoutMs = Number(values['ping-timeout']);

/** Every open socket → its state; rooms: group id (string) → Set of states. */
const clients = new Set();
const rooms = new Map();
let nextId = 0;
let corked = [];

/** An unmasked, final text frame (server → client), built once per broadcast. */
function textFrame(text) {
  const payload = Buffer.from(text);
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(frame, headerLength);
  return frame;
}

function uncorkAll() {
  const members = corked;
  corked = [];
  for (const member of members) {
    member.corked = false;
    member.ws._socket?.uncork();
  }
}

/**
 * Writes a prebuilt frame straight to the member's TCP socket. Safe here:
 * permessage-deflate is off, so ws's sender never queues and frames stay in order.
 */
function writeFrame(client, frame) {
  const socket = client.ws._socket;
  if (socket === null || socket === undefined || socket.destroyed) return;
  if (!client.corked) {
    client.corked = true;
    socket.cork();
    if (corked.length === 0) setImmediate(uncorkAll);
    corked.push(client);
  }
  socket.write(frame);
}

function leaveRoom(client) {
  if (client.room === undefined) return;
  const room = rooms.get(client.room);
  room?.delete(client);
  if (room !== undefined && room.size === 0) rooms.delete(client.room);
  client.room = undefined;
}

function onEvent(client, text) {
  let packet;
  try {
    packet = JSON.parse(text.slice(2));
  } catch {
    return;
  }
  if (!Array.isArray(packet)) return;
  const [event, data] = packet;
  const payload = data !== null && typeof data === 'object' ? data : {};
  if (event === 'auth') {
    if (payload.id === undefined || payload.groupId === undefined || String(payload.token) !== `t-${String(payload.id)}`) {
      client.ws.send('42["auth_result",{"success":false,"reason":"bad token"}]');
      return;
    }
    leaveRoom(client);
    client.user = payload.id;
    client.room = String(payload.groupId);
    client.groupId = payload.groupId;
    const room = rooms.get(client.room) ?? new Set();
    rooms.set(client.room, room.add(client));
    client.ws.send('42["auth_result",{"success":true}]');
  } else if (event === 'msg') {
    if (client.room === undefined) {
      client.ws.send('42["msg_result",{"success":false,"reason":"not authed"}]');
      return;
    }
    if (String(payload.type) !== '1') {
      client.ws.send('42["msg_result",{"success":false,"reason":"unsupported type"}]');
      return;
    }
    const frame = textFrame(`42${JSON.stringify(['msg', { from: client.user, groupId: client.groupId, type: 1, content: payload.content }])}`);
    for (const member of rooms.get(client.room) ?? []) writeFrame(member, frame);
    writeFrame(client, textFrame('42["msg_result",{"success":true}]'));
  }
}

function onMessage(client, data) {
  const text = data.toString();
  if (text === '3') {
    client.heardAt = Date.now();
  } else if (text.startsWith('40')) {
    client.ws.send(`40{"sid":"n${client.id}"}`);
  } else if (text.startsWith('42')) {
    onEvent(client, text);
  } else if (text.startsWith('41') || text === '1') {
    client.ws.close();
  }
}

const http = createServer((_request, response) => response.writeHead(404).end());
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false, maxPayload: 1 << 20 });

http.on('upgrade', (request, socket, head) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (!url.pathname.startsWith('/socket.io') || url.searchParams.get('transport') !== 'websocket') return socket.destroy();
  return wss.handleUpgrade(request, socket, head, (ws) => {
    const now = Date.now();
    const client = { id: nextId++, ws, room: undefined, user: undefined, groupId: undefined, heardAt: now, nextPingAt: now + pingIntervalMs, corked: false };
    clients.add(client);
    ws.on('error', () => ws.terminate());
    ws.on('message', (data) => onMessage(client, data));
    ws.on('close', () => {
      clients.delete(client);
      leaveRoom(client);
    });
    ws.send(`0{"sid":"e${client.id}","upgrades":[],"pingInterval":${pingIntervalMs},"pingTimeout":${pingTimeoutMs},"maxPayload":1000000}`);
  });
});
http.on('clientError', (_error, socket) => socket.destroy());

// One sweep a second: ping whoever is due, drop whoever stopped answering.
setInterval(() => {
  const now = Date.now();
  for (const client of clients) {
    if (now - client.heardAt > pingIntervalMs + pingTimeoutMs) {
      client.ws.terminate();
    } else if (now >= client.nextPingAt) {
      client.nextPingAt = now + pingIntervalMs;
      client.ws.send('2');
    }
  }
}, 1000).unref();

http.listen({ port: Number(values.port), host: '127.0.0.1', backlog: Number(values.backlog) }, () => {
  process.stdout.write(`mini socket.io server listening on http://127.0.0.1:${http.address().port}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
