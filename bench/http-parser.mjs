#!/usr/bin/env node
// bench/http-parser.mjs: nanoseconds per response of spear's HTTP/1.1
// response parser on a 9-header nginx-style response (172-byte body), one
// response per read, in one process. OLD_DIST=/path/to/dist adds another
// build's parser (e.g. an earlier commit: git archive REV src tsconfig.json
// package.json | tar -x -C DIR; ln -s $PWD/node_modules DIR; (cd DIR && npx tsc)).
//   npm run build && node bench/http-parser.mjs        # N [2000000] responses per round, 2 rounds
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const n = Number(process.env.N ?? 2_000_000);
const builds = [['this checkout', join(here, '..', 'dist')]];
if (process.env.OLD_DIST !== undefined) builds.push(['OLD_DIST', process.env.OLD_DIST]);
const response = Buffer.from('HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Dec 2026 10:00:00 GMT\r\nContent-Type: text/html\r\nContent-Length: 172\r\nLast-Modified: Tue, 01 Dec 2026 09:00:00 GMT\r\nConnection: keep-alive\r\nETag: "6571a-ac"\r\nAccept-Ranges: bytes\r\n\r\n' + 'x'.repeat(172));
const parsers = await Promise.all(builds.map(async ([name, dist]) => [name, (await import(join(dist, 'protocols', 'http', 'response-parser.js'))).ResponseParser]));
for (let round = 1; round <= 2; round += 1) {
  for (const [name, ResponseParser] of parsers) {
    let responses = 0;
    const parser = new ResponseParser({ nextIsBodyless: () => false, response: () => ++responses > 0 });
    const started = process.hrtime.bigint();
    for (let index = 0; index < n; index += 1) parser.execute(response);
    const ns = Number(process.hrtime.bigint() - started) / n;
    if (responses !== n) throw new Error(`${name}: ${responses} responses parsed of ${n}`);
    console.log(`round ${round} ${name}: ${ns.toFixed(0)} ns per response`);
  }
}
