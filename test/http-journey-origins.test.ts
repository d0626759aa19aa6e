import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readResult } from '../src/report/result-file.js';
import type { RunResult } from '../src/report/result.js';
import { startHttpServer } from './servers/http-server.js';
import { okResponse, startRawRequestServer } from './servers/raw-request-server.js';
import { runSpear, tempDir } from './support/spear.js';

// HTTP journeys over spear's own client, end to end: steps to two origins, POST bodies the server
// measures itself, a server that closes after every response, and a step that times out. Counts are
// the servers' own.

let dir: { path: string; cleanup: () => Promise<void> };

before(async () => {
  dir = await tempDir();
});

after(async () => {
  await dir.cleanup();
});

async function run(name: string, target: string, lines: readonly string[]): Promise<RunResult> {
  const file = join(dir.path, `${name}.yaml`);
  const out = join(dir.path, `${name}.json`);
  await writeFile(file, [`target: ${target}`, 'protocol: http', 'duration: 1s', ...lines, ''].join('\n'));
  const outcome = await runSpear(['run', file, '--agents', '1', '--quiet', '--out', out]);
  assert.equal(outcome.code, 0, `exit ${outcome.code}: ${outcome.stderr}`);
  return readResult(out);
}

test('a journey over two origins: POST bodies arrive whole at one, the other is called by absolute URL, every response counted once', async () => {
  // Origin A checks each body against its content-length and answers JSON; origin B is a counting HTTP server.
  let mismatched = 0;
  const a = await startRawRequestServer((socket, request) => {
    const declared = Number(request.headers.find(([name]) => name === 'content-length')?.[1]);
    const parsed = JSON.parse(request.body.toString('utf8')) as { user: number; note: string };
    if (declared !== request.body.length || parsed.note !== 'crème ☃') mismatched += 1;
    socket.write(okResponse(JSON.stringify({ path: `/items/${parsed.user}` })));
  });
  const b = await startHttpServer();
  try {
    const result = await run('two-origins', a.url, ['load: {users: 4, connectRate: 1000/s}', 'flow:',
      '  - http: {name: login, method: POST, url: /login, body: {user: "{{user}}", note: "crème ☃"}, capture: {path: path}}',
      `  - http: {name: items, url: "${b.url}{{path}}", check: {status: 200}}`]);
    const logins = result.summary.byRequest?.login?.requests ?? 0;
    const items = result.summary.byRequest?.items?.requests ?? 0;
    assert.ok(logins > 4, `${logins} logins`);
    assert.equal(logins, a.requests.length);
    assert.equal(items, b.received());
    assert.equal(mismatched, 0, 'a body arrived cut, padded or mis-encoded');
    assert.ok(items >= logins - 4 && items <= logins);
    assert.deepEqual(result.summary.errorCodes, {});
    assert.ok([...b.paths.keys()].every((path) => /^\/items\/\d$/.test(path)), [...b.paths.keys()].join(' '));
  } finally {
    await a.close();
    await b.close();
  }
});

test('a server that closes after every response without saying so: GET steps go out again on a new connection, no error is the server\'s', async () => {
  const server = await startRawRequestServer((socket, request) => {
    if (request.position === 0) socket.end(okResponse('once'));
  });
  try {
    const result = await run('closing', server.url, ['load: {users: 3, connectRate: 1000/s}', 'flow:', '  - http: {url: /one}', '  - http: {url: /two}']);
    const answered = server.requests.filter((request) => request.position === 0).length;
    assert.ok(answered > 3, `${answered} answered`);
    assert.equal(result.summary.requests, answered, 'every answered request counted, once');
    assert.deepEqual(result.summary.errorCodes, {});
  } finally {
    await server.close();
  }
});

test('a step with no answer within timeouts.request: timeout:SPEAR_REQUEST_TIMEOUT, and the user goes on', async () => {
  const server = await startHttpServer({ delayMs: { '/slow': 2000 } });
  try {
    const result = await run('timeout', server.url, ['timeouts: {request: 200ms}', 'load: {users: 2, connectRate: 1000/s}', 'flow:', '  - http: {name: fast, url: /fast}', '  - http: {name: slow, url: /slow}']);
    const timeouts = result.summary.errorCodes['timeout:SPEAR_REQUEST_TIMEOUT'] ?? 0;
    assert.ok(timeouts >= 2, JSON.stringify(result.summary.errorCodes));
    assert.deepEqual(Object.keys(result.summary.errorCodes), ['timeout:SPEAR_REQUEST_TIMEOUT']);
    assert.equal(result.summary.byRequest?.fast?.requests, server.paths.get('/fast'));
    assert.equal(result.summary.byRequest?.slow?.requests ?? 0, 0);
  } finally {
    await server.close();
  }
});
