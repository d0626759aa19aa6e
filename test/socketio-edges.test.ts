import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ExitCode } from '../src/errors.js';
import { readResult } from '../src/report/result-file.js';
import type { RunResult } from '../src/report/result.js';
import { pythonMissing, socketIoModules, startPythonServer, type PythonServer } from './servers/python-servers.js';
import { startSocketIoServer } from './servers/socketio-server.js';
import { startSocketIoV3, type SocketIoV3Options, type SocketIoV3Server } from './servers/socketio-v3-server.js';
import { writeScenario } from './support/case-b.js';
import { runSpear, tempDir } from './support/spear.js';

/**
 * Socket.IO at the edges, against servers nobody on this project wrote:
 * python-socketio 5 (Debian's python3-socketio on aiohttp), socket.io 3.1
 * from npm in both Engine.IO revisions, and socket.io 4 refusing Engine.IO 3.
 */

let dir: { path: string; cleanup: () => Promise<void> };

before(async () => {
  dir = await tempDir();
});

after(async () => {
  await dir.cleanup();
});

interface FlowRun {
  readonly target: string;
  readonly flow: string;
  readonly users?: number;
  readonly eio?: 3 | 4;
  readonly hold?: string;
  readonly connectTimeout?: string;
  readonly extra?: string;
}

let runs = 0;

/** Runs `flow` (YAML list items, two-space indented) for 20 users on one agent; returns the result. */
async function runFlow(options: FlowRun): Promise<RunResult> {
  runs += 1;
  const id = runs;
  const scenario = await writeScenario(dir.path, `edge-${id}.yaml`, `protocol: socketio
target: ${options.target}
socketio: { eio: ${options.eio ?? 4} }
load: { users: ${options.users ?? 20}, connectRate: 1000/s, hold: ${options.hold ?? '800ms'} }
timeouts: { connect: ${options.connectTimeout ?? '3s'} }
${options.extra ?? ''}
flow:
${options.flow}`);
  const out = join(dir.path, `edge-${id}.json`);
  const run = await runSpear(['run', scenario, '--agents', '1', '--quiet', '--out', out]);
  const result = await readResult(out);
  // A run in which no user connected exits 7 (ExitCode.noSuccess), its result still written.
  assert.equal(run.code, result.summary.connections?.opened === 0 ? ExitCode.noSuccess : ExitCode.ok, run.stderr + run.stdout);
  return result;
}

/** Every user ran the flow to its end: its last step, an emit, left once per user, and nothing failed. */
function assertAllCompleted(result: RunResult, users: number, emitsPerUser: number): void {
  assert.deepEqual(result.summary.errorCodes, {});
  assert.equal(result.summary.connections!.opened, users);
  assert.equal(result.summary.messages!.sent, users * emitsPerUser, 'every user reached the last step');
}

const pythonSkip = pythonMissing(socketIoModules);

// Independent runs against one server: they may overlap.
describe('python-socketio (Engine.IO 4, aiohttp)', { skip: pythonSkip, concurrency: true }, () => {
  let server: PythonServer;
  before(async () => {
    server = await startPythonServer('python-socketio-server.py');
  });
  after(async () => {
    await server.close();
  });

  test('an event emitted before the namespace ack, then two events in one read: each reaches its expect', async () => {
    const result = await runFlow({ target: server.url, flow: `  - connect: {}
  - expect: { event: welcome, timeout: 2s }
  - emit: { event: two }
  - expect: { event: first, match: { n: 1 }, timeout: 2s }
  - expect: { event: second, match: { n: 2 }, timeout: 2s }
  - emit: { event: finished }
` });
    assertAllCompleted(result, 20, 2);
    assert.equal(result.summary.replyMs!.count, 20, 'the first answer is the reply; the second answers no send');
  });

  test('binary attachments are framed, not read as Engine.IO packets; an ack the server asks for is answered', async () => {
    const result = await runFlow({ target: server.url, flow: `  - connect: {}
  - emit: { event: bin }
  - expect: { event: blob, match: { kind: blob, close: { _placeholder: true } }, timeout: 2s }
  - expect: { event: done, timeout: 2s }
  - emit: { event: ask }
  - expect: { event: question, timeout: 2s }
  - expect: { event: answered, match: { args: [] }, timeout: 2s }
  - emit: { event: finished }
` });
    assertAllCompleted(result, 20, 3);
    assert.equal(result.summary.connections!.disconnects, 0);
    assert.equal(result.summary.messages!.received, 20 * 5, 'welcome, blob, done, question, answered: no event from inside an attachment');
  });

  test('a user whose first connect is refused counts one failed connect and one reconnect', async () => {
    const result = await runFlow({ target: server.url, extra: 'reconnect: { attempts: 3, initialDelay: 50ms, maxDelay: 100ms }', flow: `  - connect: { auth: { refuseFirst: "{{user}}" } }
  - expect: { event: welcome, timeout: 2s }
  - emit: { event: finished }
` });
    const connections = result.summary.connections!;
    assert.deepEqual(result.summary.errorCodes, { 'handshake:SPEAR_CONNECT_ERROR': 20 });
    assert.match(result.summary.errorSamples?.['handshake:SPEAR_CONNECT_ERROR'] ?? '', /come back later/, 'the server\'s reason is kept');
    assert.equal(connections.failed, 20);
    assert.equal(connections.opened, 20);
    assert.equal(connections.reconnects, 20, 'each user opened its connection on a retry');
    assert.equal(result.summary.messages!.sent, 20);
  });
});

describe('python-socketio with the websocket transport disabled', { skip: pythonSkip }, () => {
  let server: PythonServer;
  before(async () => {
    server = await startPythonServer('python-socketio-server.py', ['--polling-only']);
  });
  after(async () => {
    await server.close();
  });

  test('the refusal names the transport, not just HTTP 400', async () => {
    const result = await runFlow({ target: server.url, users: 4, flow: '  - connect: {}\n' });
    assert.deepEqual(result.summary.errorCodes, { 'handshake:SPEAR_EIO_TRANSPORT': 4 });
    assert.ok(result.summary.hints.some((hint) => hint.includes('websocket')), result.summary.hints.join('\n'));
  });
});

describe('socket.io 3.1 (npm)', () => {
  const servers: SocketIoV3Server[] = [];
  const start = async (options: SocketIoV3Options = {}): Promise<SocketIoV3Server> => {
    const server = await startSocketIoV3(options);
    servers.push(server);
    return server;
  };
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  for (const eio of [4, 3] as const) {
    test(`Engine.IO ${eio}: the event emitted on connection, binary attachments and a server ack`, async () => {
      const server = await start({ allowEIO3: true });
      const result = await runFlow({ target: server.url, eio, flow: `  - connect: {}
  - expect: { event: welcome, timeout: 2s }
  - emit: { event: two }
  - expect: { event: first, timeout: 2s }
  - expect: { event: second, timeout: 2s }
  - emit: { event: bin }
  - expect: { event: blob, match: { kind: blob }, timeout: 2s }
  - expect: { event: done, timeout: 2s }
  - emit: { event: ask }
  - expect: { event: question, timeout: 2s }
  - expect: { event: answered, timeout: 2s }
  - emit: { event: finished }
` });
      assertAllCompleted(result, 20, 4);
      assert.equal(result.summary.connections!.disconnects, 0);
      assert.equal(result.summary.messages!.received, 20 * 7, 'welcome, first, second, blob, done, question, answered');
      assert.equal(server.stats.answered(), 20);
    });
  }

  test('Engine.IO 3 heartbeats leave on time: pingInterval 1s, pingTimeout 300ms, 50 users, none dropped', async () => {
    const server = await start({ allowEIO3: true, pingIntervalMs: 1000, pingTimeoutMs: 300 });
    const result = await runFlow({ target: server.url, eio: 3, users: 50, hold: '3s', flow: '  - connect: {}\n' });
    assert.deepEqual(result.summary.errorCodes, {});
    assert.equal(result.summary.connections!.opened, 50);
    assert.equal(result.summary.connections!.disconnects, 0);
  });

  test('Engine.IO 3 against servers that do not take it, and a polling-only server: each cause is named', async () => {
    // engine.io 6 (socket.io 4) writes its HTTP 400 onto the upgraded socket; socket.io 3 says nothing at all.
    const v4 = await startSocketIoServer({ version: 4 });
    const eio4Only = await start();
    const pollingOnly = await start({ transports: ['polling'] });
    try {
      await writeFile(join(dir.path, 'servers.csv'), `url\n${v4.url}\n${eio4Only.url}\n${pollingOnly.url}\n`);
      const result = await runFlow({
        target: v4.url, eio: 3, users: 6, connectTimeout: '500ms', extra: 'feeder: servers.csv', flow: '  - connect: { url: "{{feeder.url}}" }\n',
      });
      assert.deepEqual(result.summary.errorCodes, { 'handshake:SPEAR_EIO_VERSION': 2, 'handshake:SPEAR_EIO_TIMEOUT': 2, 'handshake:SPEAR_EIO_TRANSPORT': 2 });
    } finally {
      await v4.close();
    }
  });

  test('broadcasts of different senders overtaking each other are in order; one sender overtaking itself is not', async () => {
    // Group 0: odd users' broadcasts wait 150 ms in the server, so even users' overtake them, but never their own (200 ms apart).
    // Group 1: every other broadcast of each user waits 300 ms, so the sender's next one overtakes it.
    const server = await start({ delayMs: (user, round) => (user < 10 ? (user % 2 === 1 ? 150 : 0) : (round % 2 === 1 ? 300 : 0)) });
    const result = await runFlow({ target: server.url, hold: '1500ms', extra: 'groups: { size: 10 }\nbroadcast: { timeout: 1s }', flow: `  - connect: {}
  - emit: { event: auth, data: { id: "{{user}}", groupId: "{{group}}" } }
  - expect: { event: auth_result, timeout: 2s }
  - join
  - sleep: { duration: 300ms }
  - every:
      interval: 200ms
      steps:
        - emit: { event: msg, data: { content: "{{stamp}}", user: "{{user}}", round: "{{iteration}}" } }
` });
    const broadcast = result.summary.broadcast!;
    assert.equal(broadcast.lost, 0);
    assert.ok(server.stats.overtaken() > server.stats.reordered(), 'senders overtook each other');
    assert.ok(server.stats.reordered() > 0, 'senders overtook themselves');
    assert.equal(broadcast.outOfOrder, server.stats.reordered(), 'only a sender overtaking itself is out of order');
  });
});
