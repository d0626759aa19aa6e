import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readResult } from '../src/report/result-file.js';
import { startHttpServer, type CountingServer } from './servers/http-server.js';
import { runSpear, tempDir } from './support/spear.js';

let server: CountingServer;
let dir: { path: string; cleanup: () => Promise<void> };

before(async () => {
  server = await startHttpServer();
  dir = await tempDir();
});

after(async () => {
  await server.close();
  await dir.cleanup();
});

test('closed model, 2 agents: spear counts exactly the requests the server received', async () => {
  const out = join(dir.path, 'closed.json');
  const run = await runSpear(['run', '--target', server.url, '-c', '20', '-d', '2s', '--agents', '2', '--quiet', '--out', out]);
  assert.equal(run.code, 0, run.stderr);
  const result = await readResult(out);
  assert.ok(result.summary.requests > 100, `only ${result.summary.requests} requests`);
  assert.equal(result.summary.requests, server.received());
  assert.equal(result.summary.errors.total, 0);
  assert.deepEqual(result.summary.statusCodes, { '200': server.received() });
  assert.equal(result.agents.length, 2);
  assert.deepEqual(result.agents.map((agent) => agent.status), ['ok', 'ok']);
  assert.equal(result.agents[0]!.requests + result.agents[1]!.requests, server.received());
  assert.deepEqual(result.agents.map((agent) => agent.connections), [10, 10]);
  assert.equal(result.summary.latencyMs.count, server.received());
  assert.equal(result.partial, false);
  // Every interval is present and the timeline adds up to the total.
  assert.equal(result.timeline.reduce((sum, entry) => sum + entry.requests, 0), result.summary.requests);
  assert.ok(result.timeline.length >= 2);
  // Bytes on the wire: 172-byte bodies plus each response head.
  assert.ok(result.summary.bytesRead > 172 * result.summary.requests);
});

test('request list: connections rotate through every request', async () => {
  const dirPath = dir.path;
  const scenario = join(dirPath, 'rotate.yaml');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(scenario, [
    `target: ${server.url}`,
    'duration: 1s',
    'load:',
    '  connections: 4',
    'requests:',
    '  - path: /a',
    '  - path: /b',
    '  - method: POST',
    '    path: /c',
    '    headers: {content-type: application/json}',
    '    body: {hello: world}',
    '',
  ].join('\n'));
  server.paths.clear();
  const run = await runSpear(['run', scenario, '--agents', '1', '--quiet']);
  assert.equal(run.code, 0, run.stderr);
  for (const path of ['/a', '/b', '/c']) assert.ok((server.paths.get(path) ?? 0) > 10, `${path}: ${server.paths.get(path)}`);
  assert.match(run.stdout, /Requests\/sec: +\d/);
});

test('chunked responses, HEAD requests, pipelining and servers closing connections are framed exactly', async () => {
  const { writeFile } = await import('node:fs/promises');
  // Pipelined requests behind a `connection: close` would be lost by design, so closes and pipelining are tested apart.
  for (const [behaviour, pipelining] of [[{ chunked: true, closeEvery: 25 }, 1], [{ chunked: true }, 3]] as const) {
    const framing = await startHttpServer(behaviour);
    try {
      const scenario = join(dir.path, 'framing.yaml');
      await writeFile(scenario, `target: ${framing.url}\nduration: 1s\nload:\n  connections: 8\n  pipelining: ${pipelining}\nrequests:\n  - path: /get\n  - method: HEAD\n    path: /head\n`);
      const out = join(dir.path, 'framing.json');
      const run = await runSpear(['run', scenario, '--agents', '2', '--quiet', '--out', out]);
      assert.equal(run.code, 0, run.stderr);
      const result = await readResult(out);
      assert.ok(result.summary.requests > 100);
      assert.equal(result.summary.errors.total, 0, JSON.stringify(result.summary.errorCodes));
      assert.equal(result.summary.requests, framing.received());
      assert.ok((framing.paths.get('/head') ?? 0) > 10);
    } finally {
      await framing.close();
    }
  }
});
