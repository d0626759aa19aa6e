import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readResult } from '../src/report/result-file.js';
import { startWsServer, type WsTestServer } from './servers/ws-server.js';
import { writeScenario } from './support/case-b.js';
import { runSpear, tempDir } from './support/spear.js';

let server: WsTestServer;
let dir: { path: string; cleanup: () => Promise<void> };

before(async () => {
  server = await startWsServer();
  dir = await tempDir();
});

after(async () => {
  await server.close();
  await dir.cleanup();
});

test('plain WebSocket echo: every message sent comes back and its round trip is timed', async () => {
  const scenario = await writeScenario(dir.path, 'echo.yaml', `protocol: ws
target: ${server.url}/echo
load: { users: 10, connectRate: 1000/s, hold: 2s }
flow:
  - connect: {}
  - every:
      interval: 100ms
      steps:
        - send: { data: { user: "{{user}}", n: "{{iteration}}" } }
        - expect: { match: { user: "{{user}}" } }
`);
  const out = join(dir.path, 'echo.json');
  const before = server.stats.messages();
  const run = await runSpear(['run', scenario, '--agents', '2', '--quiet', '--out', out]);
  assert.equal(run.code, 0, run.stderr);
  const result = await readResult(out);
  const messages = result.summary.messages!;
  assert.ok(messages.sent >= 100, `only ${messages.sent} sent`);
  assert.equal(messages.sent, server.stats.messages() - before, 'spear counted what the server received');
  assert.equal(messages.received, messages.sent, 'every echo came back');
  assert.equal(result.summary.replyMs!.count, messages.sent);
  assert.equal(result.summary.connections!.opened, 10);
  assert.equal(result.summary.errors.total, 0);
});

test('the end-of-run drain waits for replies in flight: a server echoing 600 ms late loses none of them from the counts', async () => {
  // At the stop every user awaits its echo; the drain used to close after 200 ms without
  // messages, and the slowest replies (the last ones) went uncounted.
  const scenario = await writeScenario(dir.path, 'slow-echo.yaml', `protocol: ws
target: ${server.url}/echo?delayMs=600
load: { users: 10, connectRate: 1000/s, hold: 1500ms }
flow:
  - connect: {}
  - every:
      interval: 100ms
      steps:
        - send: { data: { user: "{{user}}" } }
        - expect: { match: { user: "{{user}}" }, timeout: 5s }
`);
  const out = join(dir.path, 'slow-echo.json');
  const run = await runSpear(['run', scenario, '--agents', '1', '--quiet', '--out', out]);
  assert.equal(run.code, 0, run.stderr);
  const result = await readResult(out);
  const messages = result.summary.messages!;
  assert.ok(messages.sent >= 10, `only ${messages.sent} sent`);
  assert.equal(messages.received, messages.sent, 'every echo in flight at the stop was counted');
  assert.equal(result.summary.replyMs!.count, messages.sent);
  assert.equal(result.summary.errors.total, 0);
});

test('plain WebSocket group broadcast: stamped messages reach every member of the group, and no one else', async () => {
  const scenario = await writeScenario(dir.path, 'ws-broadcast.yaml', `protocol: ws
target: ${server.url}
load: { users: 12, connectRate: 1000/s, hold: 2s }
groups: { size: 4 }
broadcast: { timeout: 1s }
flow:
  - connect: { url: "/broadcast?group={{group}}" }
  - join
  - sleep: { duration: 500ms }
  - every:
      interval: 500ms
      steps:
        - send: { data: "hello {{stamp}}" }
`);
  const out = join(dir.path, 'ws-broadcast.json');
  const run = await runSpear(['run', scenario, '--agents', '2', '--quiet', '--out', out]);
  assert.equal(run.code, 0, run.stderr);
  const result = await readResult(out);
  const broadcast = result.summary.broadcast!;
  assert.ok(broadcast.sent >= 24, `only ${broadcast.sent} broadcasts`);
  assert.equal(broadcast.expected, broadcast.sent * 4);
  assert.equal(broadcast.delivered, broadcast.expected);
  assert.equal(broadcast.lost, 0);
  assert.equal(broadcast.nonMember, 0);
  assert.equal(broadcast.groups.length, 3);
});

test('a failed handshake is a failed connect, not a disconnect, and never crashes the agent', async () => {
  // A Socket.IO client against a plain ws server, which drops the connection during the upgrade.
  const scenario = await writeScenario(dir.path, 'wrong-server.yaml', `protocol: socketio
target: ${server.url.replace('ws://', 'http://')}
socketio: { path: /echo }
load: { users: 4, connectRate: 1000/s, hold: 1s }
timeouts: { connect: 500ms }
flow:
  - connect: {}
`);
  const out = join(dir.path, 'wrong-server.json');
  const run = await runSpear(['run', scenario, '--agents', '2', '--quiet', '--out', out]);
  // No user ever connected: exit 7 (ExitCode.noSuccess), the result still written.
  assert.equal(run.code, 7, run.stderr);
  assert.match(run.stderr, /^spear: no user connected: \d+ /m);
  const result = await readResult(out);
  assert.deepEqual(result.agents.map((agent) => agent.status), ['ok', 'ok']);
  const connections = result.summary.connections!;
  assert.equal(connections.failed, 4);
  assert.equal(connections.opened, 0);
  assert.equal(connections.disconnects, 0);
  // The test server resets the unknown path: whatever the code, 4 failures and no disconnect.
  assert.equal(Object.values(result.summary.errorCodes).reduce((sum, count) => sum + count, 0), 4);
  assert.equal(result.summary.errors.disconnect, 0);
});
