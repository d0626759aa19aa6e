#!/usr/bin/env node
// A local WebSocket target for the examples: /echo sends every message back,
// /broadcast?group=G sends every message to every connection of group G
// (the sender included). Text stays text and binary stays binary.
// Usage: node examples/targets/ws-target.js [port]   (default 3100; 0 = any free port)
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? process.env.PORT ?? 3100);
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
