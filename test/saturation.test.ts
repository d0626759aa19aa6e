import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
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
  assert.equal(result.summary.generator.saturated, false, result.summary.generator.reason);
  assert.deepEqual(result.summary.generator.agents, []);
  for (const agent of result.agents) {
    assert.ok(agent.health.intervals >= 3, `agent ${agent.id}: ${agent.health.intervals} intervals of health`);
    assert.equal(agent.health.saturatedIntervals, 0);
    assert.ok(agent.health.rssMbMax > 10 && agent.health.cpu.max > 0, JSON.stringify(agent.health));
    assert.equal(agent.health.lateMsMax, 0);
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
  assert.deepEqual(generator.agents, [1]);
  assert.match(generator.reason, /agent 1/);
  const busy = result.agents[1]!.health;
  assert.ok(busy.lateMsMax >= 4000, `late by ${busy.lateMsMax} ms`);
  assert.ok(busy.loopDelayMs.max >= 6000, `loop delay max ${busy.loopDelayMs.max} ms`);
  assert.equal(result.agents[0]!.health.lateMsMax, 0);
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
  assert.ok(exitedAt - started < 30_000);
  const result = await readResult(out);
  assert.equal(result.agents[0]!.status, 'lost');
  assert.match(result.agents[0]!.reason ?? '', /ignored stop/);
  assert.equal(result.agents[1]!.status, 'ok');
  assert.ok(result.agents[0]!.requests > 0, 'the wedged agent\'s numbers until then are kept');
  for (const agent of result.agents) assert.equal(alive(agent.pid ?? 0), false, `agent ${agent.id} (pid ${agent.pid}) still runs`);
});
