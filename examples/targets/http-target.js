#!/usr/bin/env node
// A small local HTTP target for the examples: a 172-byte page at / and a
// 2.5 KB page at /2.5k, like the web-server benchmark the examples recreate.
// Usage: node examples/targets/http-target.js [port]   (default 8080; 0 = any free port)
import { createServer } from 'node:http';

const small = Buffer.from(`<html><head><title>spear</title></head><body><p>${'x'.repeat(172 - 67)}</p></body></html>\n`);
const large = Buffer.from(`<html><body><p>${'y'.repeat(2560 - 30)}</p></body></html>\n`);
const port = Number(process.argv[2] ?? process.env.PORT ?? 8080);

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
