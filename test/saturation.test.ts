import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostStarvedFix, judgeGenerator, saturationThresholds } from '../src/metrics/generator-verdict.js';
import { readResult } from '../src/report/result-file.js';
import { useHttpFixture } from './support/fixtures.js';
import { runSpear, spearBin } from './support/spear.js';

const fixture = useHttpFixture();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a calm run says the generator was fine, with health for every agent', async () => {
  const out = join(fixture.dir, 'calm.json');
  const run = await runSpear(['run', '--target', fixture.server.url, '-R', '200/s', '-c', '10', '-d', '3s', '--agents', '2', '--quiet', '--out', out]);
  assert.equal(run.code, 0, run.stderr);
  const result = await readResult(out);
  const generator = result.summary.generator;
  // On a loaded CI host other processes can starve even this light run's loops: spear then says the host took
  // its CPU (the host-starved fix), the only saturation allowed here. On a calm host: no saturation at all.
  const starved = generator.saturated && generator.fix === hostStarvedFix;
  assert.ok(!generator.saturated || starved, generator.reason);
  if (!starved) assert.deepEqual(generator.agents, []);
  for (const agent of result.agents) {
    assert.ok(agent.health.intervals >= 3, `agent ${agent.id}: ${agent.health.intervals} intervals of health`);
    // One busy interval, or a report a few ms late, is what a loaded host does to any process: below the verdict's rule.
    if (!starved) assert.ok(agent.health.saturatedIntervals < saturationThresholds.runIntervals, JSON.stringify(agent.health));
    assert.ok(agent.health.rssMbMax > 10 && agent.health.cpu.max > 0, JSON.stringify(agent.health));
    assert.ok(agent.health.lateMsMax < saturationThresholds.lateMs, `agent ${agent.id} late by ${agent.health.lateMsMax} ms`);
  }
  for (const entry of result.timeline) assert.deepEqual(entry.health.map((health) => health.agent), [0, 1]);
});

test('an agent whose load loop is stuck for 7 s is late, not lost: every number arrives and the verdict names it', async () => {
  const before = fixture.server.received();
  const out = join(fixture.dir, 'busy.json');
  // Agent 1 spins 7 s from 1 s in: longer than the 5 s silence window that used to declare it lost.
  const run = await runSpear(['run', '--target', fixture.server.url, '-c', '4', '-d', '9s', '--agents', '2', '--quiet', '--out', out], {
    env: { SPEAR_TEST_BUSY: '1:1000:7000' },
  });
  assert.equal(run.code, 0, run.stderr);
  const result = await readResult(out);
  assert.deepEqual(result.agents.map((agent) => agent.status), ['ok', 'ok']);
  assert.equal(result.partial, false);
  assert.equal(result.summary.requests, fixture.server.received() - before, 'every response counted, none lost with the agent');
  const generator = result.summary.generator;
  assert.equal(generator.saturated, true);
  assert.match(generator.reason, /agent 1: .*its reports ran \d+\.\d s late/);
  const busy = result.agents[1]!.health;
  assert.ok(busy.lateMsMax >= 4000, `late by ${busy.lateMsMax} ms`);
  assert.ok(busy.loopDelayMs.max >= 6000, `loop delay max ${busy.loopDelayMs.max} ms`);
  // Agent 1's stall is never blamed on agent 0: agent 0 is judged by its own intervals alone. On a calm
  // host that names only agent 1; on a loaded CI host agent 0's loop is honestly starved too, and named.
  const calm = result.agents[0]!.health;
  assert.ok(calm.lateMsMax < saturationThresholds.lateMs, `agent 0 late by ${calm.lateMsMax} ms`);
  const own = judgeGenerator(new Map([[0, result.timeline.flatMap((entry) => entry.health.filter((row) => row.agent === 0))]]), new Map([[0, calm.lateMsMax]]));
  assert.deepEqual(generator.agents, [...own.agents, 1], generator.reason);
  if (own.agents.length === 0) assert.doesNotMatch(generator.reason, /agent 0/);
});

test('an agent that ignores stop cannot hold the run: spear exits soon after the result and no agent process remains', async () => {
  const out = join(fixture.dir, 'wedged.json');
  const started = Date.now();
  const child = spawn(process.execPath, [spearBin, 'run', '--target', fixture.server.url, '-c', '2', '-d', '1s', '--timeout', '1s', '--agents', '2', '--quiet', '--out', out], {
    env: { ...process.env, SPEAR_TEST_IGNORE_STOP: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  const exitedAt = Date.now();
  assert.equal(code, 5, stderr);
  const written = (await stat(out)).mtimeMs;
  assert.ok(exitedAt - written < 10_000, `exited ${exitedAt - written} ms after the result`);
  const result = await readResult(out);
  // Counted from the load's start, not the spawn: on a loaded host starting spear alone took over 10 s.
  assert.ok(exitedAt - Date.parse(result.startedAt) < 30_000, `exited ${exitedAt - Date.parse(result.startedAt)} ms after the load started (${exitedAt - started} ms after the spawn)`);
  assert.equal(result.agents[0]!.status, 'lost');
  assert.match(result.agents[0]!.reason ?? '', /ignored stop/);
  assert.equal(result.agents[1]!.status, 'ok');
  assert.ok(result.agents[0]!.requests > 0, 'the wedged agent\'s numbers until then are kept');
  for (const agent of result.agents) assert.equal(alive(agent.pid ?? 0), false, `agent ${agent.id} (pid ${agent.pid}) still runs`);
});
