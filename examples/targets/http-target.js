#!/usr/bin/env node
// A small local HTTP target for the examples: a 172-byte page at / and a
// 2.5 KB page at /2.5k, like the web-server benchmark the examples recreate.
// Usage: node examples/targets/http-target.js [--port N]   (default 8080, or $PORT; 0 = any free port)
//        node examples/targets/http-target.js N          (the same, the port as the only argument)
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const small = Buffer.from(`<html><head><title>spear</title></head><body><p>${'x'.repeat(172 - 67)}</p></body></html>\n`);
const large = Buffer.from(`<html><body><p>${'y'.repeat(2560 - 34)}</p></body></html>\n`); // 2,560 bytes, as bench/ serves
const { values, positionals } = parseArgs({ options: { port: { type: 'string' } }, allowPositionals: true });
const portText = values.port ?? positionals[0] ?? process.env.PORT ?? '8080';
const port = Number(portText);
if (portText === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port ${portText}: expected --port N, N from 0 to 65535`);

const server = createServer((request, response) => {
  const body = request.url === '/2.5k' ? large : small;
  response.writeHead(200, { 'content-type': 'text/html', 'content-length': body.length });
  response.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`http target listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
