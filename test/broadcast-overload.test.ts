import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { readResult } from '../src/report/result-file.js';
import { writeScenario } from './support/case-b.js';
import { runSpear, tempDir } from './support/spear.js';

/** The minimal Socket.IO v4 server of bench/ws-capacity: it fans a broadcast out as one prebuilt frame per member, faster than one client core can read. */
const miniServer = fileURLToPath(new URL('../../bench/ws-capacity/mini-sio-server.mjs', import.meta.url));

let dir: { path: string; cleanup: () => Promise<void> };
let server: ChildProcess;
let url: string;

before(async () => {
  dir = await tempDir();
  server = spawn(process.execPath, [miniServer, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(server.stdout!, 'data') as [Buffer];
  url = /listening on (\S+)/.exec(line.toString())![1]!;
});

after(async () => {
  server.kill();
  await dir.cleanup();
});

/** Users in groups broadcasting every second; `padding` bytes ride along with each stamp. */
function scenario(users: number, groupSize: number, padding: number): string {
  return `protocol: socketio
target: ${url}
load: { users: ${users}, connectRate: 5000/s, hold: 4s }
groups: { size: ${groupSize} }
broadcast: { timeout: 1s }
flow:
  - connect: {}
  - emit: { event: auth, data: { id: "{{user}}", groupId: "{{group}}", token: "t-{{user}}" } }
  - expect: { event: auth_result, match: { success: true }, timeout: 5s }
  - join
  - sleep: { duration: 1s }
  - every:
      interval: 1s
      steps:
        - emit: { event: msg, data: { type: 1, groupId: "{{group}}", content: "{{stamp}} ${'x'.repeat(padding)}" } }
`;
}

test('a server fanning out faster than the agent can read: spear says it was the bottleneck and blames the server for nothing', async () => {
  const file = await writeScenario(dir.path, 'overload.yaml', scenario(1000, 1000, 1000));
  const out = join(dir.path, 'overload.json');
  const run = await runSpear(['run', file, '--agents', '1', '--quiet', '--out', out], { env: { SPEAR_TEST_DRAIN_MS: '0' } });
  const result = await readResult(out);
  const broadcast = result.summary.broadcast!;
  const seen = JSON.stringify({ ...broadcast, groups: undefined, latencyMs: undefined, firstMemberMs: undefined, lastMemberMs: undefined });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(result.summary.generator.saturated, true, result.summary.generator.reason);
  assert.deepEqual(result.summary.generator.agents, [0]);
  assert.equal(broadcast.lost, 0, `nothing blamed on the server: ${seen}`);
  // The end-of-run drain is cut off (test-only SPEAR_TEST_DRAIN_MS=0) so copies stay unread, as they do past the drain bound.
  assert.ok(broadcast.unverified > 0, `copies left unread by a saturated agent are unverified: ${seen}`);
  assert.equal(broadcast.delivered + broadcast.late + broadcast.unverified, broadcast.expected);
});

test('the same fan-out at a light rate: no saturation, nothing unverified, every copy delivered', async () => {
  const file = await writeScenario(dir.path, 'light.yaml', scenario(40, 20, 0));
  const out = join(dir.path, 'light.json');
  const run = await runSpear(['run', file, '--agents', '1', '--quiet', '--out', out]);
  assert.equal(run.code, 0, run.stderr);
  const result = await readResult(out);
  const broadcast = result.summary.broadcast!;
  assert.equal(result.summary.generator.saturated, false, result.summary.generator.reason);
  assert.equal(broadcast.unverified, 0);
  assert.equal(broadcast.lost, 0);
  assert.equal(broadcast.delivered, broadcast.expected);
  assert.ok(broadcast.expected >= 40 * 3 * 20 * 0.9, `${broadcast.expected} expected`);
});
