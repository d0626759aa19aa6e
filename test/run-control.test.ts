import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readResult } from '../src/report/result-file.js';
import { startHttpServer, type CountingServer } from './servers/http-server.js';
import { runSpear, spearBin, tempDir } from './support/spear.js';

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

test('thresholds: all met → exit 0; one failed → exit 99 with the result still written', async () => {
  const scenario = join(dir.path, 'thresholds.yaml');
  await writeFile(scenario, `target: ${server.url}\nduration: 1s\nload:\n  connections: 4\nthresholds:\n  - p99 < 10s\n  - errors < 1%\n  - rps > 1\n`);
  const pass = await runSpear(['run', scenario, '--agents', '1', '--quiet']);
  assert.equal(pass.code, 0, pass.stderr);
  assert.match(pass.stdout, /ok {3}p99 < 10s \(actual /);

  const failing = join(dir.path, 'failing.yaml');
  await writeFile(failing, `target: ${server.url}\nduration: 1s\nload:\n  connections: 4\nthresholds:\n  - p50 < 1us\n  - errors < 1%\n`);
  const out = join(dir.path, 'failing.json');
  const fail = await runSpear(['run', failing, '--agents', '1', '--quiet', '--out', out]);
  assert.equal(fail.code, 99, fail.stderr);
  const result = await readResult(out);
  assert.deepEqual(result.thresholds.map((threshold) => [threshold.threshold, threshold.ok]), [['p50 < 1us', false], ['errors < 1%', true]]);
});

test('preflight: more connections than one agent can hold is refused before any load, naming the fix', async () => {
  const before = server.received();
  const outcome = await runSpear(['run', '--target', server.url, '-c', '30000', '-d', '1s', '--agents', '1', '--quiet']);
  const limit = Number(/^Max open files\s+\S+\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]);
  if (!Number.isFinite(limit) || limit >= 30_064) return; // this host could hold it
  assert.equal(outcome.code, 4);
  assert.match(outcome.stderr, /^spear: 30000 connections over 1 agent need 30064 open files per agent, but the open-file limit is \d+: use --agents \d+ or more \(each agent is a process with its own limit\), or raise the hard limit \(ulimit -Hn\)\n$/);
  assert.equal(server.received(), before);
});

/** Starts `spear run` in the background and returns its process and a promise of its exit code. */
function startRun(args: readonly string[]): { pid: number; exit: Promise<number>; kill: (signal: NodeJS.Signals) => void; stderr: () => string } {
  // Its own process group, as in a terminal: a signal to -pid reaches the coordinator and its agents.
  const child = spawn(process.execPath, [spearBin, 'run', ...args], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exit = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal === null ? -1 : 128))));
  void exit.then((code) => {
    if (code !== 0 && process.env.SPEAR_TEST_DEBUG !== undefined) process.stderr.write(stderr);
  });
  return { pid: child.pid!, exit, kill: (signal) => process.kill(-child.pid!, signal), stderr: () => stderr };
}

/** PIDs of the agent processes a coordinator forked (its node children). */
function childPids(parent: number): number[] {
  const children = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim();
  return children === '' ? [] : children.split(/\s+/).map(Number);
}

/**
 * Polls `probe` until it returns a value. `timeoutMs` is a bound on a stuck run, not a
 * measure: on a loaded 2-core CI host an agent's start alone took 11-16 s (src/agents/start-deadline.ts).
 */
async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, what = 'a condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Whether process `pid` is gone (exited and reaped). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

test('an agent killed mid-run is marked lost: the run completes, partial, exit 5, result written', async () => {
  const out = join(dir.path, 'lost.json');
  // Requests from earlier tests already count: wait for this run's own.
  const before = server.received();
  // Line progress instead of --quiet: its "[   1s]" line says both agents reported their first interval.
  const run = startRun(['--target', server.url, '-c', '4', '-d', '4s', '--agents', '2', '--progress', 'lines', '--out', out]);
  const agents = await waitFor(() => {
    const pids = childPids(run.pid);
    return pids.length === 2 ? pids : undefined;
  }, 60_000, 'two agent processes');
  // Killed mid-run once both agents have reported, not 1.2 s after the first request: that sleep left the 3 s run
  // 1.8 s for the test's own lag before the agent finished and could no longer be lost. Now 3 s of run remain.
  await waitFor(() => (/^\[ +1s\] /m.test(run.stderr()) ? true : undefined), 60_000, 'the first merged interval');
  assert.ok(server.received() > before);
  process.kill(agents[1]!, 'SIGKILL');
  assert.equal(await run.exit, 5, run.stderr());
  const result = await readResult(out);
  assert.equal(result.partial, true);
  const statuses = result.agents.map((agent) => agent.status).sort();
  assert.deepEqual(statuses, ['lost', 'ok']);
  const lost = result.agents.find((agent) => agent.status === 'lost')!;
  assert.match(lost.reason ?? '', /agent \d \(local\)/);
  // The survivor ran to the end: its intervals cover the whole 4 s.
  const survivor = result.agents.find((agent) => agent.status === 'ok')!;
  assert.ok(survivor.requests > 0);
  assert.ok(result.summary.durationS >= 4);
});

test('Ctrl-C (SIGINT to the process group) stops every agent, drains, and still writes the result (exit 130)', async () => {
  const out = join(dir.path, 'interrupted.json');
  const before = server.received();
  const run = startRun(['--target', server.url, '-c', '4', '-d', '60s', '--agents', '2', '--quiet', '--out', out]);
  await waitFor(() => (server.received() > before ? true : undefined), 60_000, 'the load to start');
  await sleep(1000);
  run.kill('SIGINT');
  assert.equal(await run.exit, 130);
  const result = await readResult(out);
  assert.equal(result.interrupted, true);
  assert.equal(result.partial, false);
  assert.equal(result.summary.requests, server.received() - before);
  assert.ok(result.summary.durationS < 10);
});

test('a coordinator killed mid-run leaves no load behind: its agents stop and exit', async (context) => {
  const run = startRun(['--target', server.url, '-c', '4', '-d', '60s', '--agents', '2', '--quiet']);
  const agents = await waitFor(() => {
    const pids = childPids(run.pid);
    return pids.length === 2 ? pids : undefined;
  }, 60_000, 'two agent processes');
  const before = server.received();
  await waitFor(() => (server.received() > before ? true : undefined), 60_000, 'the load to start');
  process.kill(run.pid, 'SIGKILL');
  await run.exit;
  const diedAt = Date.now();
  // A local agent stops on its IPC channel closing, not on a timer: how long that takes is the host's
  // scheduling (about 0.1 s calm; seconds on a loaded CI host). The bound is far inside the 60 s run, so an
  // agent that kept its load would fail it; a fixed 5 s sleep raced a starved host.
  await waitFor(() => (agents.every(gone) ? true : undefined), 30_000, `agents ${agents.join(', ')} to exit after their coordinator died`);
  context.diagnostic(`coordinator killed → both agents exited: ${Date.now() - diedAt} ms`);
  const settled = server.received();
  await sleep(1000);
  assert.equal(server.received(), settled, 'requests still arriving after the agents exited');
  for (const pid of agents) assert.throws(() => process.kill(pid, 0), /ESRCH/, `agent ${pid} still alive`);
});
