import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readResult } from '../src/report/result-file.js';
import type { RunResult } from '../src/report/result.js';
import { pythonMissing, startPythonServer, websocketsModules, type PythonServer } from './servers/python-servers.js';
import { writeScenario } from './support/case-b.js';
import { runSpear, tempDir } from './support/spear.js';

/** Plain WebSocket at the edges, against python's `websockets` (Debian's python3-websockets). */

let dir: { path: string; cleanup: () => Promise<void> };

before(async () => {
  dir = await tempDir();
});

after(async () => {
  await dir.cleanup();
});

let runs = 0;

/**
 * Runs `flow` for `users` users on one agent against `target`. Every user must finish the flow
 * before the hold ends (after it, no user starts a step): a few ms on a calm host, but on a loaded
 * 2-core CI host, with the python server starved too, an 800 ms hold cut users short. The runs overlap.
 */
async function runFlow(target: string, flow: string, users = 20): Promise<RunResult> {
  runs += 1;
  const id = runs;
  const scenario = await writeScenario(dir.path, `ws-edge-${id}.yaml`, `protocol: ws
target: ${target}
load: { users: ${users}, connectRate: 1000/s, hold: 3s }
flow:
${flow}`);
  const out = join(dir.path, `ws-edge-${id}.json`);
  const run = await runSpear(['run', scenario, '--agents', '1', '--quiet', '--out', out]);
  assert.equal(run.code, 0, run.stderr + run.stdout);
  return readResult(out);
}

// Independent runs against one server: they may overlap.
describe('python websockets', { skip: pythonMissing(websocketsModules), concurrency: true }, () => {
  let server: PythonServer;
  before(async () => {
    server = await startPythonServer('python-ws-server.py');
  });
  after(async () => {
    await server.close();
  });

  test('two messages back to back: each reaches its own expect', async () => {
    const result = await runFlow(`${server.url}/two`, `  - connect: {}
  - send: { data: go }
  - expect: { match: { n: 1 }, timeout: 2s }
  - expect: { match: { n: 2 }, timeout: 2s }
  - send: { data: finished }
`);
    assert.deepEqual(result.summary.errorCodes, {});
    assert.equal(result.summary.messages!.sent, 40, 'every user reached the last step');
  });

  test('a binary frame of UTF-8 JSON matches as text', async () => {
    const result = await runFlow(`${server.url}/binary`, `  - connect: {}
  - send: { data: go }
  - expect: { match: { name: "Jörg" }, contains: "Köln", timeout: 2s }
  - send: { data: finished }
`);
    assert.deepEqual(result.summary.errorCodes, {});
    assert.equal(result.summary.messages!.sent, 40);
  });

  test('close codes from the server are kept: disconnect:WS_1000, WS_1001, WS_1011', async () => {
    const result = await runFlow(server.url, `  - connect: { url: "/close/{{user}}" }
  - send: { data: go }
  - expect: { match: { bye: true }, timeout: 2s }
`, 6);
    assert.deepEqual(result.summary.errorCodes, { 'disconnect:WS_1000': 2, 'disconnect:WS_1001': 2, 'disconnect:WS_1011': 2 });
    assert.match(result.summary.errorSamples?.['disconnect:WS_1011'] ?? '', /going 1011/, 'the close reason is kept');
    assert.equal(result.summary.connections!.disconnects, 6);
  });
});
