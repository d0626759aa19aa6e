import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readResult } from '../src/report/result-file.js';
import { useHttpFixture } from './support/fixtures.js';
import { spearBin } from './support/spear.js';

const fixture = useHttpFixture();

test('a coordinator frozen for 8 s (SIGSTOP, then SIGCONT) drops no agent and loses no count', async () => {
  const out = join(fixture.dir, 'stalled.json');
  const coordinator = spawn(process.execPath, [spearBin, 'run', '--target', fixture.server.url, '-c', '4', '-d', '14s', '--agents', '2', '--quiet', '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  coordinator.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => coordinator.once('exit', (code) => resolve(code)));
  // Frozen mid-load (a loaded host may take seconds to start spear), not at a fixed time: 1 s into the load.
  for (let waited = 0; fixture.server.received() === 0 && waited < 30_000; waited += 50) await sleep(50);
  await sleep(1000);
  coordinator.kill('SIGSTOP');
  await sleep(8000);
  coordinator.kill('SIGCONT');
  const code = await exited;
  assert.equal(code, 0, stderr);
  const result = await readResult(out);
  assert.deepEqual(result.agents.map((agent) => agent.status), ['ok', 'ok'], JSON.stringify(result.agents.map((agent) => agent.reason)));
  assert.equal(result.partial, false);
  assert.equal(result.summary.requests, fixture.server.received(), 'every response the agents saw is in the result');
  assert.ok(result.summary.requests > 1000);
});
