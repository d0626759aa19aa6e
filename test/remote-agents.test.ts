import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readResult } from '../src/report/result-file.js';
import { wireVersion } from '../src/wire/messages.js';
import { startHttpServer, type CountingServer } from './servers/http-server.js';
import { refusedPortUrl } from './servers/faulty-servers.js';
import { opensslMissing, selfSignedCertificate } from './support/certificates.js';
import { runSpear, spearBin, tempDir } from './support/spear.js';

const token = 'test-token-7f3a';

interface RemoteAgent {
  readonly process: ChildProcess;
  /** HOST:PORT it listens on. */
  readonly address: string;
  /** What it logged on stderr so far. */
  log(): string;
  stop(): Promise<void>;
}

/** Starts `spear agent --listen HOST:0` as a real process and waits for its address. */
async function startAgent(host: string, env: Record<string, string> = {}, extra: readonly string[] = [], port = '0'): Promise<RemoteAgent> {
  const child = spawn(process.execPath, [spearBin, 'agent', '--listen', `${host}:${port}`, '--token', token, ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const address = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const match = /wss?:\/\/(\S+)/.exec(chunk.toString());
      if (match !== null) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`agent exited (${code}): ${stderr}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    address,
    log: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

let server: CountingServer;
let dir: { path: string; cleanup: () => Promise<void> };
let agents: RemoteAgent[];

before(async () => {
  server = await startHttpServer();
  dir = await tempDir();
  agents = [await startAgent('127.0.0.2'), await startAgent('127.0.0.3')];
});

after(async () => {
  for (const agent of agents) await agent.stop();
  await server.close();
  await dir.cleanup();
});

test('two remote agents on 127.0.0.2 and 127.0.0.3: spear counts exactly what the server received', async () => {
  const out = join(dir.path, 'remote.json');
  const before = server.received();
  const run = await runSpear(['run', '--target', server.url, '-c', '10', '-d', '2s', '--agent', agents[0]!.address, '--agent', agents[1]!.address, '--token', token, '--quiet', '--out', out]);
  assert.equal(run.code, 0, run.stderr);
  const result = await readResult(out);
  assert.ok(result.summary.requests > 100);
  assert.equal(result.summary.requests, server.received() - before);
  assert.deepEqual(result.agents.map((agent) => [agent.status, agent.connections]), [['ok', 5], ['ok', 5]]);
  for (const agent of result.agents) assert.ok(Math.abs(agent.clock!.offsetMs) <= Math.max(1, agent.clock!.uncertaintyMs));
  // Both agents are free again for the next coordinator.
  const again = await runSpear(['run', '--target', server.url, '-c', '2', '-d', '1s', '--agent', agents[0]!.address, '--agent', agents[1]!.address, '--token', token, '--quiet']);
  assert.equal(again.code, 0, again.stderr);
});

test('a wrong token is refused, with the reason on both sides', async () => {
  const run = await runSpear(['run', '--target', server.url, '-c', '2', '-d', '1s', '--agent', agents[0]!.address, '--token', 'nope', '--quiet']);
  assert.equal(run.code, 5);
  assert.equal(run.stderr, `spear: agent 0 (${agents[0]!.address}): refused (HTTP 401): wrong token: use the token the agent was started with (--token or SPEAR_TOKEN)\n`);
  assert.match(agents[0]!.log(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z spear agent: refused coordinator 127\.0\.0\.1:\d+: wrong token/m);
  // The right token from a file (a trailing newline is not part of it) is accepted; the result names the agent's host.
  const tokenFile = join(dir.path, 'token');
  await writeFile(tokenFile, `${token}\n`);
  const out = join(dir.path, 'token-file.json');
  const fromFile = await runSpear(['run', '--target', server.url, '-c', '2', '-d', '1s', '--agent', agents[0]!.address, '--token-file', tokenFile, '--quiet', '--out', out]);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  const row = (await readResult(out)).agents[0]!;
  assert.deepEqual([row.host, row.address], [hostname(), agents[0]!.address]);
});

test('an agent of another wire version is refused before any load', async () => {
  const other = await startAgent('127.0.0.4', { SPEAR_TEST_WIRE_VERSION: '999' });
  try {
    const before = server.received();
    const run = await runSpear(['run', '--target', server.url, '-c', '2', '-d', '1s', '--agent', other.address, '--token', token, '--quiet']);
    assert.equal(run.code, 5);
    assert.match(run.stderr, new RegExp(String.raw`^spear: agent 0 \(127\.0\.0\.4:\d+\): refused \(HTTP 409\): wire version mismatch: the coordinator speaks ${wireVersion} \(spear [\d.]+\), this agent 999 \(spear [\d.]+\): run the same spear version on both
$`));
    assert.equal(server.received(), before);
  } finally {
    await other.stop();
  }
});

test('a remote agent killed mid-run: the run completes partial and keeps the survivor\'s numbers', async () => {
  const doomed = await startAgent('127.0.0.5');
  const out = join(dir.path, 'partial.json');
  const before = server.received();
  const running = runSpear(['run', '--target', server.url, '-c', '4', '-d', '3s', '--agent', agents[0]!.address, '--agent', doomed.address, '--token', token, '--quiet', '--out', out]);
  // Killed once the load runs (a loaded box may take seconds, up to the agents' 60 s start bound, to start it), not at a fixed time.
  for (let waited = 0; server.received() - before < 50 && waited < 60_000; waited += 50) await sleep(50);
  await sleep(300);
  doomed.process.kill('SIGKILL');
  const run = await running;
  assert.equal(run.code, 5, run.stderr);
  const result = await readResult(out);
  assert.equal(result.partial, true);
  assert.deepEqual(result.agents.map((agent) => agent.status), ['ok', 'lost']);
  assert.match(result.agents[1]!.reason ?? '', /agent 1 \(127\.0\.0\.5:\d+\)/);
  assert.ok(result.agents[0]!.requests > 0);
  assert.ok(result.summary.durationS >= 3);
});

test('a coordinator killed mid-run: remote agents stop the load and wait for the next one', async (context) => {
  const left = /spear agent: coordinator \S+ left \(.*\); waiting for the next one$/gm;
  const leftBefore = agents[0]!.log().match(left)?.length ?? 0;
  const child = spawn(process.execPath, [spearBin, 'run', '--target', server.url, '-c', '4', '-d', '60s', '--agent', agents[0]!.address, '--token', token, '--quiet'], { stdio: 'ignore' });
  const before = server.received();
  for (let waited = 0; server.received() === before && waited < 60_000; waited += 50) await sleep(50);
  assert.ok(server.received() > before, 'load started');
  child.kill('SIGKILL');
  const diedAt = Date.now();
  // The agent logs "left" once its load thread has ended (every socket closed): wait for that, not a
  // fixed 5 s, which a starved CI host could outlast. The socket's close stops it, no timer: about 0.1 s
  // calm. The bound is far inside the 60 s run, so an agent that kept its load fails it.
  while ((agents[0]!.log().match(left)?.length ?? 0) === leftBefore) {
    if (Date.now() - diedAt > 30_000) assert.fail(`the agent did not stop its load within 30 s of its coordinator dying: ${agents[0]!.log()}`);
    await sleep(50);
  }
  context.diagnostic(`coordinator killed → the agent stopped its load: ${Date.now() - diedAt} ms`);
  const settled = server.received();
  await sleep(1000);
  assert.equal(server.received(), settled, 'requests still arriving after the agent stopped its load');
  assert.equal(agents[0]!.process.exitCode, null, 'the agent keeps running');
  const next = await runSpear(['run', '--target', server.url, '-c', '2', '-d', '1s', '--agent', agents[0]!.address, '--token', token, '--quiet']);
  assert.equal(next.code, 0, next.stderr);
});

test('TLS: an agent with --tls-cert serves wss://, and a coordinator trusting its CA drives it', async (t) => {
  const made = selfSignedCertificate(dir.path, 'spear-test-agent', 'IP:127.0.0.6');
  if (made === undefined) {
    t.skip(opensslMissing);
    return;
  }
  const { cert, key } = made;
  const secure = await startAgent('127.0.0.6', {}, ['--tls-cert', cert, '--tls-key', key]);
  try {
    const before = server.received();
    const out = join(dir.path, 'tls.json');
    const run = await runSpear(['run', '--target', server.url, '-c', '2', '-d', '1s', '--agent', secure.address, '--token', token, '--ca', cert, '--quiet', '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((await readResult(out)).summary.requests, server.received() - before);
    const untrusted = await runSpear(['run', '--target', server.url, '-c', '2', '-d', '1s', '--agent', `wss://${secure.address}`, '--token', token, '--quiet']);
    assert.equal(untrusted.code, 5);
    assert.match(untrusted.stderr, /cannot connect \((SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT)\)/);
  } finally {
    await secure.stop();
  }
});

test('--allow-target: an agent refuses a plan aimed elsewhere, and runs one aimed inside', async () => {
  const fenced = await startAgent('127.0.0.7', {}, ['--allow-target', '10.0.0.0/8', '--allow-target', 'localhost']);
  const open = await startAgent('127.0.0.8', {}, ['--allow-target', '127.0.0.0/8']);
  try {
    const before = server.received();
    const refused = await runSpear(['run', '--target', server.url, '-c', '2', '-d', '1s', '--agent', fenced.address, '--token', token, '--quiet']);
    assert.equal(refused.code, 5);
    assert.match(refused.stderr, /this agent may not send load to 127\.0\.0\.1: it allows only 10\.0\.0\.0\/8, localhost \(spear agent --allow-target\)/);
    assert.equal(server.received(), before, 'no request left the fenced agent');
    const allowed = await runSpear(['run', '--target', server.url, '-c', '2', '-d', '1s', '--agent', open.address, '--token', token, '--quiet']);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.ok(server.received() > before);
  } finally {
    await fenced.stop();
    await open.stop();
  }
});

test('agent weights: HOST:PORT*3 gets three times the connections', async () => {
  const out = join(dir.path, 'weights.json');
  const run = await runSpear(['run', '--target', server.url, '-c', '8', '-d', '1s', '--agent', `${agents[0]!.address}*3`, '--agent', agents[1]!.address, '--token', token, '--quiet', '--out', out]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual((await readResult(out)).agents.map((agent) => agent.connections), [6, 2]);
});

test('--wait: an agent that comes up after the coordinator is dialed again; one that never does is named after the wait', async () => {
  const port = Number(new URL(await refusedPortUrl()).port);
  const address = `127.0.0.4:${port}`;
  const out = join(dir.path, 'late-agent.json');
  const running = runSpear(['run', '--target', server.url, '-c', '2', '-d', '1s', '--agent', address, '--token', token, '--wait', '20s', '--quiet', '--out', out]);
  await sleep(1000);
  const late = await startAgentAt(address);
  try {
    const run = await running;
    assert.equal(run.code, 0, run.stderr);
    assert.ok((await readResult(out)).summary.requests > 0);
  } finally {
    await late.stop();
  }
  const started = performance.now();
  const missing = await runSpear(['run', '--target', server.url, '-c', '2', '-d', '1s', '--agent', address, '--token', token, '--wait', '1s', '--quiet']);
  assert.equal(missing.code, 5, missing.stderr);
  assert.match(missing.stderr, new RegExp(`agent 0 \\(${address.replaceAll('.', '\\.')}\\): cannot connect \\(ECONNREFUSED\\).*\\(tried for 1s: --wait\\)`));
  assert.ok(performance.now() - started >= 1000, 'it waited');
});

/** An agent on a fixed address (the coordinator may dial it before it listens). */
function startAgentAt(address: string): Promise<RemoteAgent> {
  const [host, port] = address.split(':') as [string, string];
  return startAgent(host, {}, [], port);
}
