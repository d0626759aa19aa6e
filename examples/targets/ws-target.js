#!/usr/bin/env node
// A local WebSocket target for the examples: /echo sends every message back,
// /broadcast?group=G sends every message to every connection of group G
// (the sender included). Text stays text and binary stays binary.
// Usage: node examples/targets/ws-target.js [--port N]   (default 3100, or $PORT; 0 = any free port)
//        node examples/targets/ws-target.js N          (the same, the port as the only argument)
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values, positionals } = parseArgs({ options: { port: { type: 'string' } }, allowPositionals: true });
const portText = values.port ?? positionals[0] ?? process.env.PORT ?? '3100';
const port = Number(portText);
if (portText === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port ${portText}: expected --port N, N from 0 to 65535`);
const groups = new Map();

const http = createServer((_request, response) => response.writeHead(404).end());
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

http.on('upgrade', (request, socket, head) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname !== '/echo' && url.pathname !== '/broadcast') return socket.destroy();
  return wss.handleUpgrade(request, socket, head, (ws) => {
    ws.on('error', () => ws.terminate()); // a bad frame from one client must not crash the target
    if (url.pathname === '/echo') {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      return;
    }
    const name = url.searchParams.get('group') ?? '';
    const group = groups.get(name) ?? new Set();
    groups.set(name, group.add(ws));
    ws.on('message', (data, isBinary) => {
      for (const member of group) if (member.readyState === member.OPEN) member.send(data, { binary: isBinary });
    });
    ws.on('close', () => {
      group.delete(ws);
      if (group.size === 0 && groups.get(name) === group) groups.delete(name);
    });
  });
});

http.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ws target listening on ws://127.0.0.1:${http.address().port}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const client of wss.clients) client.terminate();
    http.close(() => process.exit(0));
  });
}
