/**
 * Dial-in agents: `spear agent --join` dials `spear run --listen`, run after
 * run. Real processes on loopback; agents dial from 127.0.0.2 and 127.0.0.3
 * (--source) so the coordinator sees distinct addresses.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readResult } from '../src/report/result-file.js';
import { startHttpServer, type CountingServer } from './servers/http-server.js';
import { refusedPortUrl } from './servers/faulty-servers.js';
import { runSpear, spearBin, tempDir, type SpearOutcome } from './support/spear.js';

const token = 'dial-in-token-91d2';
const stamp = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;
/**
 * --wait for runs whose agents never all join: an agent refused meanwhile (nothing listening yet, or a
 * wrong token) dials again at most 5 s later (src/agents/coordinator-joiner.ts), so a wait this long
 * sees at least one dial from each whenever the coordinator starts listening.
 */
const joinWait = '7s';

interface JoiningAgent {
  readonly process: ChildProcess;
  /** What it logged on stderr so far. */
  log(): string;
  /** Resolves once its log matches `pattern`; rejects after `timeoutMs` (a bound on a stuck agent: a loaded CI host takes seconds to start one). */
  logged(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `spear agent --join ws://127.0.0.1:PORT --source SOURCE` as a real process. */
function startAgent(port: number, source: string, agentToken = token): JoiningAgent {
  const child = spawn(process.execPath, [spearBin, 'agent', '--join', `ws://127.0.0.1:${port}`, '--source', source, '--token', agentToken], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    log: () => stderr,
    logged: async (pattern, timeoutMs = 30_000) => {
      for (const since = Date.now(); !pattern.test(stderr);) {
        if (Date.now() - since > timeoutMs) throw new Error(`no ${String(pattern)} in the agent's log within ${timeoutMs} ms: ${stderr}`);
        await sleep(50);
      }
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A free port on 127.0.0.1 (bound to 0, then released). */
async function freePort(): Promise<number> {
  return Number(new URL(await refusedPortUrl()).port);
}

/** Waits until something accepts TCP on 127.0.0.1:`port` (the coordinator listens). */
async function listening(port: number): Promise<void> {
  for (const since = Date.now(); Date.now() - since < 30_000;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

/** `spear run --listen 127.0.0.1:PORT --expect-agents N ARGS`, and the port it listens on once it does. */
async function coordinator(expect: number, args: readonly string[]): Promise<{ port: number; done: Promise<SpearOutcome> }> {
  const port = await freePort();
  const done = runSpear(['run', '--target', server.url, '--listen', `127.0.0.1:${port}`, '--expect-agents', String(expect), '--token', token, '--quiet', ...args]);
  await listening(port);
  return { port, done };
}

let server: CountingServer;
let dir: { path: string; cleanup: () => Promise<void> };
const started: JoiningAgent[] = [];

before(async () => {
  server = await startHttpServer();
  dir = await tempDir();
});

after(async () => {
  for (const agent of started) await agent.stop();
  await server.close();
  await dir.cleanup();
});

function agents(port: number, sources: readonly string[], agentToken = token): JoiningAgent[] {
  const made = sources.map((source) => startAgent(port, source, agentToken));
  started.push(...made);
  return made;
}

test('two agents join a listening coordinator, run, and join again for the next run', async () => {
  const out = join(dir.path, 'first.json');
  const first = await coordinator(2, ['-c', '4', '-d', '1s', '--out', out]);
  const before = server.received();
  const [a, b] = agents(first.port, ['127.0.0.2', '127.0.0.3']);
  const run = await first.done;
  assert.equal(run.code, 0, `${run.stderr}\nagent logs:\n${a!.log()}${b!.log()}`);
  const result = await readResult(out);
  assert.ok(result.summary.requests > 0);
  assert.equal(result.summary.requests, server.received() - before);
  assert.deepEqual(result.agents.map((agent) => [agent.status, agent.connections, agent.host]), [['ok', 2, hostname()], ['ok', 2, hostname()]]);
  assert.deepEqual(result.agents.map((agent) => agent.address?.replace(/:\d+$/, '')).sort(), ['127.0.0.2', '127.0.0.3']);
  for (const agent of [a!, b!]) {
    await agent.logged(new RegExp(`^${stamp} spear agent: left coordinator ws://127\\.0\\.0\\.1:${first.port}/spear \\(the connection closed \\(1000\\)\\); joining again for the next run$`, 'm'));
  }

  // The same agents, still running, take the next coordinator's run (here on the same port).
  const again = join(dir.path, 'second.json');
  const second = runSpear(['run', '--target', server.url, '--listen', `127.0.0.1:${first.port}`, '--expect-agents', '2', '--token', token, '--quiet', '-c', '2', '-d', '1s', '--out', again]);
  const rerun = await second;
  assert.equal(rerun.code, 0, `${rerun.stderr}\nagent logs:\n${a!.log()}${b!.log()}`);
  assert.equal((await readResult(again)).agents.length, 2);
  await Promise.all([a!.stop(), b!.stop()]);
});

test('fewer agents than --expect-agents: one line naming how many joined and from where, after --wait', async () => {
  // The agents first, up and dialing (refused: nothing listens yet), so that a loaded
  // test host starting two node processes does not eat into the wait.
  const port = await freePort();
  const joining = agents(port, ['127.0.0.2', '127.0.0.3']);
  await Promise.all(joining.map((agent) => agent.logged(/cannot reach coordinator/)));
  const before = server.received();
  // Refused meanwhile, they dial at most 5 s apart (jittered backoff); a loaded host took seconds to start the
  // coordinator, and a 2 s --wait then ended between two dials. --wait covers a whole pause, plus 2 s.
  const run = await runSpear(['run', '--target', server.url, '--listen', `127.0.0.1:${port}`, '--expect-agents', '3', '--token', token, '--quiet', '-c', '3', '-d', '1s', '--wait', joinWait]);
  assert.equal(run.code, 5);
  assert.equal(run.stderr, `spear: 2 of 3 agents joined within ${joinWait} (127.0.0.2, 127.0.0.3): start the missing agents or lower --expect-agents\n`);
  assert.equal(server.received(), before, 'no load without every agent');
  await Promise.all(joining.map((agent) => agent.stop()));
});

test('a wrong token on join is refused, with the reason in the agent\'s log and in the coordinator\'s error', async () => {
  // The agent first, up and dialing, as above: on a loaded host starting it outlasted a 3 s --wait.
  const port = await freePort();
  const [wrong] = agents(port, ['127.0.0.2'], 'not-the-token');
  await wrong!.logged(/cannot reach coordinator/);
  const done = runSpear(['run', '--target', server.url, '--listen', `127.0.0.1:${port}`, '--expect-agents', '1', '--token', token, '--quiet', '-c', '1', '-d', '1s', '--wait', joinWait]);
  await wrong!.logged(new RegExp(`^${stamp} spear agent: refused by coordinator ws://127\\.0\\.0\\.1:${port}/spear \\(HTTP 401\\): wrong token: use the token the coordinator was started with \\(--token or SPEAR_TOKEN\\); trying again`, 'm'));
  const run = await done;
  assert.equal(run.code, 5);
  assert.equal(run.stderr, `spear: 0 of 1 agents joined within ${joinWait}: start the missing agents or lower --expect-agents (refused meanwhile: 127.0.0.2: wrong token: use the token the coordinator was started with (--token or SPEAR_TOKEN))\n`);
  // Said once, however often it dialed again.
  assert.equal(wrong!.log().match(/wrong token/g)?.length, 1, wrong!.log());
  await wrong!.stop();
});

test('a late agent is told the run has started; a coordinator killed mid-run stops the joined agent\'s load', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [spearBin, 'run', '--target', server.url, '--listen', `127.0.0.1:${port}`, '--expect-agents', '1', '--token', token, '--quiet', '-c', '2', '-d', '60s'], { stdio: 'ignore' });
  try {
    await listening(port);
    const before = server.received();
    const [joined] = agents(port, ['127.0.0.2']);
    // Up to the agent's 60 s bound on starting its load thread (seconds on a loaded CI host).
    for (const since = Date.now(); server.received() === before && Date.now() - since < 60_000;) await sleep(50);
    assert.ok(server.received() > before, `load started: ${joined!.log()}`);
    const [late] = agents(port, ['127.0.0.3']);
    await late!.logged(/\(HTTP 409\): busy: this coordinator's run has started with the 1 agent it expected: join the next run; trying again/);
    child.kill('SIGKILL');
    // The agent logs "left" once its load thread has ended (every socket closed), so the load has stopped
    // when the line appears: waited for, not a fixed 500 ms. The bound is far inside the 60 s run.
    await joined!.logged(/left coordinator .*; joining again for the next run$/m, 30_000);
    const settled = server.received();
    await sleep(1000);
    assert.equal(server.received(), settled, 'requests still arriving after the coordinator died');
    assert.equal(joined!.process.exitCode, null, 'the agent keeps running, for the next coordinator');
  } finally {
    child.kill('SIGKILL');
  }
});
