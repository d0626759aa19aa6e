import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readResult } from '../src/report/result-file.js';
import { runSpear, tempDir } from './support/spear.js';

// Issue 12 item 1: full-URL one-liners with wrk/hey/curl habits.

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const seen: Seen[] = [];
/** Requests received, counted apart from `seen` (which keeps the first 1,000). */
let received = 0;
let url = '';
const server = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk: Buffer) => {
    body += chunk.toString();
  });
  request.on('end', () => {
    received += 1;
    if (seen.length < 1000) seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
    response.end('ok');
  });
});
let dir: { path: string; cleanup: () => Promise<void> };

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await tempDir();
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await dir.cleanup();
});

test('spear run URL: the URL\'s path and query are the request, as wrk and hey take them', async () => {
  seen.length = 0;
  const out = join(dir.path, 'url.json');
  const run = await runSpear(['run', `${url}/some/path?x=1`, '-c', '2', '-d', '1s', '--agents', '1', '--quiet', '--out', out]);
  assert.equal(run.code, 0, run.stderr);
  const result = await readResult(out);
  assert.ok(result.summary.requests > 10);
  assert.deepEqual(new Set(seen.map((request) => `${request.method} ${request.url}`)), new Set(['GET /some/path?x=1']));
  assert.equal(result.scenario.target, url);
});

test('-m, -H (repeatable), -b and --body-file make the request; a JSON body gets its content-type', async () => {
  seen.length = 0;
  received = 0;
  const out = join(dir.path, 'post.json');
  const run = await runSpear(['run', '--target', `${url}/orders`, '-m', 'post', '-H', 'X-Token: abc', '-H', 'Accept: text/plain', '-b', '{"item": 7}', '-c', '2', '-d', '500ms', '--agents', '2', '--quiet', '--out', out]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal((await readResult(out)).summary.requests, received, 'counted equal');
  // Every request the server saw (the first 1,000) is exactly the one asked for.
  for (const request of seen) {
    assert.equal(`${request.method} ${request.url}`, 'POST /orders');
    assert.equal(request.headers['x-token'], 'abc');
    assert.equal(request.headers.accept, 'text/plain');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.body, '{"item": 7}');
  }
  seen.length = 0;
  const bodyFile = join(dir.path, 'body.txt');
  await writeFile(bodyFile, 'a=1&b=2');
  const form = await runSpear(['run', `${url}/form`, '-m', 'PUT', '--body-file', bodyFile, '--content-type', 'application/x-www-form-urlencoded', '-c', '1', '-d', '500ms', '--agents', '1', '--quiet']);
  assert.equal(form.code, 0, form.stderr);
  assert.equal(seen[0]!.body, 'a=1&b=2');
  assert.equal(seen[0]!.headers['content-type'], 'application/x-www-form-urlencoded');
});

test('with a file\'s requests: -H adds to each, -m is refused, a full URL as the file\'s target names the fix', async () => {
  const file = join(dir.path, 'requests.yaml');
  await writeFile(file, `target: ${url}\nrequests:\n  - path: /a\n  - path: /b\n    headers: {x-b: "1"}\n`);
  seen.length = 0;
  const run = await runSpear(['run', file, '-H', 'X-All: yes', '-c', '2', '-d', '500ms', '--agents', '1', '--quiet']);
  assert.equal(run.code, 0, run.stderr);
  assert.ok(seen.every((request) => request.headers['x-all'] === 'yes'));
  assert.ok(seen.some((request) => request.url === '/b' && request.headers['x-b'] === '1'));
  const method = await runSpear(['validate', file, '-m', 'POST']);
  assert.equal(method.code, 2, method.stderr);
  assert.match(method.stderr, /-m, -b, --body-file and --content-type describe a --target URL's request/);
  await writeFile(file, `target: ${url}/api\nrequests:\n  - path: /a\n`);
  const full = await runSpear(['validate', file]);
  assert.equal(full.code, 3, full.stderr);
  assert.match(full.stderr, new RegExp(`target: with requests listed, give the target as an origin such as "${url.replaceAll('.', '\\.')}"`));
  const bad = await runSpear(['validate', `${url}/x`, '-H', 'no colon']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /-H "no colon": expected "Name: value"/);
});
