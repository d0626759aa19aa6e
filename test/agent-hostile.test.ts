/**
 * An exposed `spear agent --listen` under hostile traffic: malformed
 * upgrades, garbage, idle and slow sockets, oversized frames, bad keys,
 * plans over the limits, a second plan mid-run, DNS rebinding past
 * --allow-target. After each attack the agent is alive, its descriptors are
 * back to what it held idle, and a real coordinator runs load through it
 * with counts equal to the target server's.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect, type LookupFunction, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { TargetPolicy } from '../src/agents/target-policy.js';
import { WireError } from '../src/errors.js';
import { errorCodeOf } from '../src/metrics/error-kind.js';
import { StepClient } from '../src/protocols/http/step-client.js';
import { WebSocketLink } from '../src/protocols/ws/web-socket-link.js';
import { readResult } from '../src/report/result-file.js';
import type { HttpPlan, SessionPlan } from '../src/scenarios/plan.js';
import { sendStep } from '../src/sessions/http-exchange.js';
import { wireVersion, type AgentMessage } from '../src/wire/messages.js';
import { parseAgentMessage, parseCoordinatorMessage } from '../src/wire/parse.js';
import { startHttpServer, type CountingServer } from './servers/http-server.js';
import { opensslMissing, selfSignedCertificate } from './support/certificates.js';
import { runSpear, spearBin, tempDir } from './support/spear.js';

const token = 'hostile-test-token';
/** The agent closes a connection that has not upgraded this soon (agent-server.ts). */
const upgradeTimeoutMs = 5000;

interface Agent {
  readonly process: ChildProcess;
  readonly host: string;
  readonly port: number;
  log(): string;
  stop(): Promise<void>;
}

async function startAgent(host: string, extra: readonly string[] = [], env: Record<string, string> = {}): Promise<Agent> {
  const child = spawn(process.execPath, [spearBin, 'agent', '--listen', `${host}:0`, '--token', token, ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const match = /wss?:\/\/[^\s:]+:(\d+)/.exec(chunk.toString());
      if (match !== null) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`agent exited (${code}): ${stderr}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    host,
    port,
    log: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function fdCount(agent: Agent): number {
  const fds = `/proc/${agent.process.pid!}/fd`;
  assert.ok(existsSync(fds), `the agent exited: ${agent.log()}`);
  return readdirSync(fds).length;
}

/** Waits (up to the upgrade timeout and some slack) for the agent to hold no more descriptors than it did idle. */
async function fdsSettle(agent: Agent, idle: number): Promise<number> {
  let count = fdCount(agent);
  for (let waited = 0; count > idle && waited < upgradeTimeoutMs + 3000; waited += 100) {
    await sleep(100);
    count = fdCount(agent);
  }
  return count;
}

/** What a raw TCP peer got back before the agent closed the connection. */
interface RawOutcome {
  readonly text: string;
  /** Bytes of `request` written before the agent closed (all of them unless it closed mid-send). */
  readonly written: number;
}

/** Sends `request` over a fresh TCP connection and reads until the agent closes it. */
function raw(agent: Agent, request: string | Buffer, options: { localAddress?: string; byteEveryMs?: number } = {}): Promise<RawOutcome> {
  return new Promise((resolve, reject) => {
    const bytes = typeof request === 'string' ? Buffer.from(request, 'latin1') : request;
    const socket = connect({ host: agent.host, port: agent.port, localAddress: options.localAddress });
    const chunks: Buffer[] = [];
    let written = 0;
    let closed = false;
    const bound = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the agent kept a connection open past ${upgradeTimeoutMs * 3} ms`));
    }, upgradeTimeoutMs * 3);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.once('close', () => {
      closed = true;
      clearTimeout(bound);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), written });
    });
    socket.once('connect', () => {
      if (options.byteEveryMs === undefined) {
        socket.write(bytes);
        written = bytes.length;
        return;
      }
      const drip = setInterval(() => {
        if (closed || written === bytes.length) {
          clearInterval(drip);
          return;
        }
        socket.write(bytes.subarray(written, written + 1));
        written += 1;
      }, options.byteEveryMs);
    });
  });
}

function upgradeRequest(path: string, headers: Record<string, string> = {}): string {
  const all: Record<string, string> = {
    host: 'agent',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-version': '13',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    authorization: `Bearer ${token}`,
    'x-spear-wire': String(wireVersion),
    ...headers,
  };
  return `GET ${path} HTTP/1.1\r\n${Object.entries(all).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;
}

/** A legitimate coordinator: a short run through the agent, counted against the server. */
async function legitimateRun(agent: Agent): Promise<void> {
  const out = join(dir.path, `run-${runs += 1}.json`);
  const before = server.received();
  const run = await runSpear(['run', '--target', server.url, '-c', '2', '-d', '1s', '--agent', `${agent.host}:${agent.port}`, '--token', token, '--quiet', '--out', out]);
  assert.equal(run.code, 0, `${run.stderr}\nagent log:\n${agent.log()}`);
  const result = await readResult(out);
  assert.ok(result.summary.requests > 0);
  assert.equal(result.summary.requests, server.received() - before);
}

/** After an attack: alive, descriptors back to idle, and a coordinator still gets its run. */
async function assertSurvived(agent: Agent, idle: number): Promise<void> {
  assert.equal(agent.process.exitCode, null, `the agent exited: ${agent.log()}`);
  assert.equal(agent.process.signalCode, null);
  assert.ok(await fdsSettle(agent, idle) <= idle, `descriptors held: ${fdCount(agent)} (idle: ${idle})`);
  await legitimateRun(agent);
}

let server: CountingServer;
let dir: { path: string; cleanup: () => Promise<void> };
let agent: Agent;
let idleFds: number;
let runs = 0;

before(async () => {
  server = await startHttpServer();
  dir = await tempDir();
  agent = await startAgent('127.0.0.11');
  // One run first: the load thread's one-time setup (its module graph, the thread pool) is not a leak.
  await legitimateRun(agent);
  await sleep(200);
  idleFds = fdCount(agent);
});

after(async () => {
  // The server first: a failed `before` (no agent) must not leave it keeping the test process alive.
  await server.close();
  const started: Agent | undefined = agent;
  await started?.stop();
  await dir.cleanup();
});

test('malformed upgrade targets and garbage headers are refused; nothing takes the agent down', async () => {
  for (const path of ['//', '/%', 'http://x', '/%zz/../..', '//spear']) {
    const outcome = await raw(agent, upgradeRequest(path));
    assert.match(outcome.text, /^HTTP\/1\.1 404 /, path);
  }
  const garbage = [
    'GET /spear HTTP/1.1\r\nhost agent\r\n\r\n',
    '\x00\x01\x02\xff garbage\r\n\r\n',
    `GET /spear HTTP/1.1\r\nhost: agent\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
    upgradeRequest('/spear', { 'sec-websocket-version': '13\r\nbad header' }),
    'GET /spear HTTP/1.1\r\nhost: agent\r\ncontent-length: -1\r\n\r\n',
  ];
  for (const request of garbage) {
    const outcome = await raw(agent, request);
    assert.match(outcome.text, /^HTTP\/1\.1 4\d\d /, JSON.stringify(request.slice(0, 40)));
  }
  // Peers that reset while the agent answers: the reset races the answer (an error on a socket node:http
  // already let go of), so try it often enough to meet the race.
  for (let batch = 0; batch < 4; batch += 1) {
    await Promise.all(Array.from({ length: 10 }, () => new Promise<void>((resolve) => {
      const socket = connect({ host: agent.host, port: agent.port }, () => {
        socket.write(upgradeRequest('//'));
        socket.resetAndDestroy();
      });
      socket.on('error', () => undefined);
      socket.once('close', () => resolve());
    })));
  }
  await assertSurvived(agent, idleFds);
});

test('idle sockets past the per-address cap are closed at once, the rest at the timeout; a slowloris upgrade too; other peers are served meanwhile', async () => {
  const idle = Array.from({ length: 40 }, () => connect({ host: agent.host, port: agent.port, localAddress: '127.0.0.12' }));
  const closedIdle: boolean[] = idle.map(() => false);
  const allClosed = Promise.all(idle.map((socket, index) => new Promise<void>((resolve) => {
    socket.on('error', () => undefined);
    socket.once('close', () => {
      closedIdle[index] = true;
      resolve();
    });
  })));
  const slow = raw(agent, upgradeRequest('/spear'), { localAddress: '127.0.0.16', byteEveryMs: 200 });
  // The 24 over the cap of 16 per address go first; 16 wait for the timeout.
  for (let waited = 0; closedIdle.filter(Boolean).length < 24 && waited < 10_000; waited += 20) await sleep(20);
  assert.equal(closedIdle.filter(Boolean).length, 24);
  // A coordinator from another address is not locked out by the stranger's sockets.
  await legitimateRun(agent);
  await allClosed;
  const slowOutcome = await slow;
  assert.equal(slowOutcome.text, '', 'no answer to a request that never completed');
  assert.ok(slowOutcome.written < Buffer.byteLength(upgradeRequest('/spear')), 'the agent closed the slow upgrade before it completed');
  await assertSurvived(agent, idleFds);
});

test('a valid token with a bad Sec-WebSocket-Key is refused and frees the agent for the next coordinator', async () => {
  for (const key of ['bad', '']) {
    const outcome = await raw(agent, upgradeRequest('/spear', { 'sec-websocket-key': key }));
    assert.match(outcome.text, /^HTTP\/1\.1 400 /);
  }
  await assertSurvived(agent, idleFds);
});

test('a frame over the 64 MiB message cap after a valid upgrade closes that link only', async () => {
  const socket = connect({ host: agent.host, port: agent.port });
  socket.on('error', () => undefined);
  let received = '';
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.startsWith('HTTP/1.1 101 ') && received.includes('\r\n\r\n')) resolve();
    });
    socket.write(upgradeRequest('/spear'));
  });
  // A masked text frame header announcing 64 MiB + 1 bytes: the agent must not wait for (or buffer) them.
  const header = Buffer.alloc(14);
  header[0] = 0x81;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(BigInt(64 * 1024 * 1024 + 1), 2);
  socket.write(header);
  socket.write(Buffer.alloc(64 * 1024, 0x20));
  await closed;
  await assertSurvived(agent, idleFds);
});

/** A WebSocket client speaking the agent protocol; `next` gives the agent's messages in order, heartbeats skipped. */
async function coordinatorLink(target: Agent, tls?: { readonly ca: string }): Promise<{ socket: WebSocket; next: () => Promise<AgentMessage>; closed: Promise<number> }> {
  const socket = new WebSocket(`${tls === undefined ? 'ws' : 'wss'}://${target.host}:${target.port}/spear`, {
    headers: { authorization: `Bearer ${token}`, 'x-spear-wire': String(wireVersion) },
    perMessageDeflate: false,
    ...(tls === undefined ? {} : { ca: tls.ca }),
  });
  const inbox: AgentMessage[] = [];
  let wake: (() => void) | undefined;
  socket.on('message', (data: Buffer) => {
    const message = parseAgentMessage(JSON.parse(data.toString('utf8')) as unknown);
    if (message.type !== 'heartbeat') inbox.push(message);
    wake?.();
  });
  const closed = new Promise<number>((resolve) => socket.once('close', (code: number) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const next = async (): Promise<AgentMessage> => {
    while (inbox.length === 0) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    return inbox.shift()!;
  };
  return { socket, next, closed };
}

function httpPlan(target: string, load: Partial<HttpPlan['load']> = {}): HttpPlan {
  return {
    agentId: 0,
    agentCount: 1,
    target,
    timeouts: { connectMs: 2000, requestMs: 5000 },
    intervalMs: 1000,
    protocol: 'http',
    requests: [{ name: 'GET /', method: 'GET', path: '/', headers: {}, body: undefined }],
    load: { model: 'closed', connections: 2, durationMs: 1000, pipelining: 1, ...load } as HttpPlan['load'],
  };
}

test('a plan over the limits (pipelining 5e7) is refused before anything is built from it', async () => {
  const link = await coordinatorLink(agent);
  assert.equal((await link.next()).type, 'ready');
  link.socket.send(JSON.stringify({ type: 'plan', wireVersion, plan: httpPlan(server.url, { connections: 1, pipelining: 5e7 }) }));
  assert.equal(await link.closed, 1008);
  await assertSurvived(agent, idleFds);
  assert.match(agent.log(), /invalid message: plan\.load\.pipelining: expected an integer from 1 to 1024, got 50000000/);
});

test('a second plan during a run is refused; the run goes on and its counts equal the server\'s', async () => {
  const link = await coordinatorLink(agent);
  assert.equal((await link.next()).type, 'ready');
  const before = server.received();
  link.socket.send(JSON.stringify({ type: 'plan', wireVersion, plan: httpPlan(server.url) }));
  assert.equal((await link.next()).type, 'planned');
  link.socket.send(JSON.stringify({ type: 'start', atMs: Date.now() + 100 }));
  link.socket.send(JSON.stringify({ type: 'plan', wireVersion, plan: httpPlan(server.url, { connections: 50 }) }));
  let requests = 0;
  const failures: string[] = [];
  for (let message = await link.next(); message.type !== 'done'; message = await link.next()) {
    if (message.type === 'interval') requests += message.counters.requests;
    if (message.type === 'failed') failures.push(message.code);
  }
  link.socket.close();
  await link.closed;
  assert.deepEqual(failures, ['E_WIRE_ORDER']);
  assert.ok(requests > 0);
  assert.equal(requests, server.received() - before);
  await assertSurvived(agent, idleFds);
});

test('TLS: a coordinator\'s link outlives the upgrade timeout (the timer follows the raw socket under TLS)', async (t) => {
  const made = selfSignedCertificate(dir.path, 'spear-test-agent', 'IP:127.0.0.17');
  if (made === undefined) {
    t.skip(opensslMissing);
    return;
  }
  const { cert, key } = made;
  const secure = await startAgent('127.0.0.17', ['--tls-cert', cert, '--tls-key', key]);
  try {
    const link = await coordinatorLink(secure, { ca: await readFile(cert, 'utf8') });
    assert.equal((await link.next()).type, 'ready');
    let open = true;
    void link.closed.then(() => {
      open = false;
    });
    await sleep(upgradeTimeoutMs + 1000);
    assert.ok(open, `the agent dropped an authenticated TLS link: ${secure.log()}`);
    link.socket.send(JSON.stringify({ type: 'ping', id: 7 }));
    assert.equal((await link.next()).type, 'pong');
    link.socket.close();
    await link.closed;
  } finally {
    await secure.stop();
  }
});

test('--listen on a name that only looks like loopback, without a token, is a usage error', async () => {
  const refused = await runSpear(['agent', '--listen', '127.evil.example:0']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /^spear: --listen 127\.evil\.example:0: an agent off loopback must require a token[^\n]*\n$/);
});

/** A real HTTP server on `host:port` that counts the TCP connections it accepted and the requests it answered. */
async function countingServer(host: string, port: number): Promise<{ server: Server; port: number; connections: () => number; requests: () => number }> {
  let connections = 0;
  let requests = 0;
  const server = createServer((request, response) => {
    requests += 1;
    request.resume();
    response.end('ok');
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  assert.ok(typeof address === 'object' && address !== null);
  return { server, port: address.port, connections: () => connections, requests: () => requests };
}

/** A counting server on 127.0.0.1 and one on 127.0.0.14, on the same port (retried when that port is taken on .14). */
async function serversOnOnePort(): Promise<{ allowed: Awaited<ReturnType<typeof countingServer>>; forbiddenV4: Awaited<ReturnType<typeof countingServer>> }> {
  for (let attempt = 1; ; attempt += 1) {
    const forbiddenV4 = await countingServer('127.0.0.1', 0);
    try {
      return { allowed: await countingServer('127.0.0.14', forbiddenV4.port), forbiddenV4 };
    } catch (error) {
      forbiddenV4.server.close();
      if (attempt >= 5) throw error;
    }
  }
}

test('DNS rebinding: a name re-pointed after the check reaches nothing outside --allow-target', async () => {
  // One port on every address: the forbidden server takes a free one on 127.0.0.1 first (busier), the allowed one follows.
  const { allowed, forbiddenV4 } = await serversOnOnePort();
  // The name is "localhost" because the system resolves it without a network: to 127.0.0.1 (and ::1), the
  // forbidden addresses here. The agent's policy answers 127.0.0.14 to the first lookup of each thread and
  // 127.0.0.1 from then on, so the check passes and later connections would go where the system resolver
  // (an agent without the connect-time check) sends them: to the forbidden server.
  const forbidden = [forbiddenV4, await countingServer('::1', allowed.port).catch(() => undefined)];
  const fenced = await startAgent('127.0.0.13', ['--allow-target', '127.0.0.14'], { SPEAR_TEST_RESOLVE: 'localhost=127.0.0.14,127.0.0.1' });
  try {
    const out = join(dir.path, 'rebind.json');
    const run = await runSpear(['run', '--target', `http://localhost:${allowed.port}`, '-c', '4', '-d', '1s', '--agent', `${fenced.host}:${fenced.port}`, '--token', token, '--quiet', '--out', out]);
    assert.equal(run.code, 0, `${run.stderr}\n${fenced.log()}`);
    const result = await readResult(out);
    for (const server of forbidden) assert.equal(server?.connections() ?? 0, 0, 'a connection reached an address outside --allow-target');
    assert.ok((result.summary.errorCodes['connect:SPEAR_TARGET_NOT_ALLOWED'] ?? 0) > 0, JSON.stringify(result.summary.errorCodes));
    assert.deepEqual(Object.keys(result.summary.errorCodes), ['connect:SPEAR_TARGET_NOT_ALLOWED']);
    assert.ok(result.summary.requests > 0);
    assert.equal(result.summary.requests, allowed.requests());
  } finally {
    await fenced.stop();
    for (const server of [allowed, ...forbidden]) {
      server?.server.closeAllConnections();
      server?.server.close();
    }
  }
});

test('the policy\'s lookup refuses a connection before it leaves: ws links and flow http steps alike', async () => {
  // The system resolves "localhost" to 127.0.0.1 (and ::1): outside a policy allowing only 127.0.0.14.
  const forbidden = await countingServer('127.0.0.1', 0);
  const forbidden6 = await countingServer('::1', forbidden.port).catch(() => undefined);
  const fenced = TargetPolicy.parse(['127.0.0.14']);
  const open = TargetPolicy.parse(['127.0.0.1', '::1']);
  assert.ok(fenced instanceof TargetPolicy && open instanceof TargetPolicy);
  const client = (lookup: LookupFunction): StepClient => new StepClient({ connections: 4, tlsOptions: {}, connectTimeoutMs: 5000, requestTimeoutMs: 5000, lookup, connectionFailed: () => undefined });
  const http = client(fenced.lookup);
  const allowedHttp = client(open.lookup);
  try {
    const link = new WebSocketLink({ message: () => undefined, closed: () => undefined });
    const options = { connectTimeoutMs: 5000, perMessageDeflate: false, lookup: fenced.lookup, socketio: { eio: 4, path: '/socket.io/', namespace: '/' } } as const;
    await assert.rejects(link.open(`ws://localhost:${forbidden.port}/`, options, undefined), (error) => errorCodeOf(error) === 'SPEAR_TARGET_NOT_ALLOWED');
    const step = { method: 'GET', url: new URL(`http://localhost:${forbidden.port}/`), headers: [], body: undefined } as const;
    await assert.rejects(sendStep(http, step, false, 5000), (error) => errorCodeOf(error) === 'SPEAR_TARGET_NOT_ALLOWED');
    assert.equal(forbidden.connections() + (forbidden6?.connections() ?? 0), 0);
    // Allowed addresses pass through the same lookup.
    assert.equal((await sendStep(allowedHttp, step, false, 5000)).status, 200);
  } finally {
    await http.close();
    await allowedHttp.close();
    for (const server of [forbidden, forbidden6]) {
      server?.server.closeAllConnections();
      server?.server.close();
    }
  }
});

const validSessionPlan: SessionPlan = {
  agentId: 0,
  agentCount: 1,
  target: 'http://127.0.0.1:3000',
  timeouts: { connectMs: 5000, requestMs: 10_000 },
  intervalMs: 1000,
  protocol: 'socketio',
  load: { model: 'users', users: 100, stages: [{ durationMs: 1000, users: 100 }], holdMs: 10_000, durationMs: 11_000 },
  flow: [
    { kind: 'connect', url: undefined, auth: undefined },
    { kind: 'expect', event: 'hello', match: { ok: true }, contains: undefined, timeoutMs: 5000, capture: {} },
    { kind: 'every', intervalMs: 1000, steps: [{ kind: 'emit', event: 'msg', data: '{"x":1}', ack: false }] },
  ],
  groups: { size: 10 },
  reconnect: { attempts: 3, initialDelayMs: 0, maxDelayMs: 1000 },
  broadcast: { event: 'msg', timeoutMs: 5000, includeSender: true },
  connection: { perMessageDeflate: false, sourceAddresses: ['127.0.0.1'] },
  socketio: { eio: 4, path: '/socket.io/', namespace: '/' },
  feeder: undefined,
};

type Edit = readonly [path: readonly (string | number)[], value: unknown];

/** Sets `value` at `path` inside a JSON value. */
function setAt(root: unknown, path: readonly (string | number)[], value: unknown): void {
  let node = root;
  for (const key of path.slice(0, -1)) {
    assert.ok(typeof node === 'object' && node !== null);
    node = (node as Record<string | number, unknown>)[key];
  }
  assert.ok(typeof node === 'object' && node !== null);
  (node as Record<string | number, unknown>)[path[path.length - 1]!] = value;
}

/** Parses a JSON copy of `plan` with `edits` applied; the WireError's message, or undefined when accepted. */
function refusal(plan: HttpPlan | SessionPlan, edits: readonly Edit[]): string | undefined {
  const copy = JSON.parse(JSON.stringify(plan)) as unknown;
  for (const [path, value] of edits) setAt(copy, path, value);
  try {
    parseCoordinatorMessage({ type: 'plan', wireVersion, plan: copy });
    return undefined;
  } catch (error) {
    assert.ok(error instanceof WireError, String(error));
    return error.message;
  }
}

/** `every` steps nested `levels` deep. */
function nestedEvery(levels: number): unknown {
  let step: unknown = { kind: 'join' };
  for (let level = 0; level < levels; level += 1) step = { kind: 'every', intervalMs: 1000, steps: [step] };
  return step;
}

function nestedObject(levels: number): unknown {
  let value: unknown = true;
  for (let level = 0; level < levels; level += 1) value = { a: value };
  return value;
}

test('every plan field is bounded: a violation names the field and the limit', () => {
  const http = httpPlan('http://127.0.0.1:8080');
  const session = validSessionPlan;
  assert.equal(refusal(http, []), undefined);
  assert.equal(refusal(session, []), undefined);
  const openLoad = { model: 'open', connections: 10, durationMs: 1000, startRatePerS: 0, maxDelayMs: 1000, stages: [{ durationMs: 1000, ratePerS: 2e7 }] };
  const cases: readonly (readonly [HttpPlan | SessionPlan, readonly Edit[], string])[] = [
    [http, [[['load', 'pipelining'], 5e7]], 'plan.load.pipelining: expected an integer from 1 to 1024, got 50000000'],
    [http, [[['load', 'connections'], 1e6], [['load', 'pipelining'], 2]], 'plan.load: connections × pipelining (1000000 × 2) is above the limit of 1048576 request slots per agent'],
    [http, [[['load', 'connections'], 1e7]], 'plan.load.connections: expected an integer from 1 to 1000000, got 10000000'],
    [http, [[['load', 'connections'], 1.5]], 'plan.load.connections: expected an integer from 1 to 1000000, got 1.5'],
    [http, [[['load', 'durationMs'], 2 ** 31]], 'plan.load.durationMs: expected a number above 0 and at most 2147483647, got 2147483648'],
    [http, [[['timeouts', 'requestMs'], 0]], 'plan.timeouts.requestMs: expected a number above 0 and at most 2147483647, got 0'],
    [http, [[['intervalMs'], 10]], 'plan.intervalMs: expected a number from 100 to 2147483647, got 10'],
    [http, [[['agentId'], 1]], 'plan.agentId: expected an integer from 0 to 0, got 1'],
    [http, [[['target'], `http://x/${'a'.repeat(9000)}`]], 'plan.target: expected at most 8192 characters, got 9009'],
    [http, [[['requests', 0, 'method'], 'G'.repeat(300)]], 'plan.requests[0].method: expected at most 256 characters, got 300'],
    [http, [[['requests', 0, 'headers'], Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`h${i}`, 'v']))]], 'plan.requests[0].headers: expected at most 100 entries, got 101'],
    [http, [[['load'], openLoad]], 'plan.load.stages[0].ratePerS: expected a number from 0 to 10000000, got 20000000'],
    [session, [[['load', 'users'], 2e7]], 'plan.load.users: expected an integer from 1 to 10000000, got 20000000'],
    [session, [[['load', 'stages', 0, 'users'], 101]], 'plan.load.stages[0].users: expected an integer from 0 to 100, got 101'],
    [session, [[['groups', 'size'], 0]], 'plan.groups.size: expected an integer from 1 to 10000000, got 0'],
    [session, [[['reconnect', 'attempts'], 1e9]], 'plan.reconnect.attempts: expected an integer from 1 to 1000000, got 1000000000'],
    [session, [[['flow', 2, 'intervalMs'], 0]], 'plan.flow[2].intervalMs: expected a number above 0 and at most 2147483647, got 0'],
    [session, [[['connection', 'sourceAddresses'], ['not-an-ip']]], 'plan.connection.sourceAddresses[0]: expected an IP address'],
    [session, [[['flow', 3], nestedEvery(8)]], 'every steps nested deeper than 8 levels'],
    [session, [[['flow', 1, 'match'], nestedObject(40)]], 'plan.flow[1].match: nested deeper than 32 levels'],
  ];
  for (const [plan, edits, expected] of cases) {
    const message = refusal(plan, edits);
    assert.ok(message?.endsWith(expected), `expected …${expected}, got ${message}`);
  }
  // The deepest nesting allowed passes.
  assert.equal(refusal(session, [[['flow', 3], nestedEvery(7)]]), undefined);
});
