import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { readResult } from '../src/report/result-file.js';
import { UserAssignment } from '../src/scenarios/user-assignment.js';
import { writeScenario } from './support/case-b.js';
import { runSpear, spearBin, tempDir } from './support/spear.js';

// Issue 13 items 3 and 6: --agent HOST:PORT*W weights for long-connection users, and
// connection.sourceAddresses split over agents (or replaced by spear agent --source-addresses).

const token = 'weights-token-51c2';

/** What the server saw of one WebSocket connection. */
interface Seen {
  readonly from: string;
  readonly agent: number;
  readonly user: number;
}

/**
 * A WebSocket server on 127.0.0.1, port 0, that records every connection's
 * remote address and its `agent` and `user` query parameters, and relays
 * each message to the open connections of its `group`, the sender included.
 */
async function startRecordingServer(): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const groups = new Map<string, Set<WebSocket>>();
  const http = createServer((_request, response) => response.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  wss.on('connection', (ws, request) => {
    const query = new URL(request.url ?? '/', 'http://localhost').searchParams;
    seen.push({ from: request.socket.remoteAddress ?? '', agent: Number(query.get('agent')), user: Number(query.get('user')) });
    const name = query.get('group') ?? '';
    const group = groups.get(name) ?? new Set<WebSocket>();
    groups.set(name, group.add(ws));
    ws.on('message', (data) => {
      for (const member of group) if (member.readyState === member.OPEN) member.send(data);
    });
    ws.on('close', () => group.delete(ws));
    ws.on('error', () => ws.terminate());
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      http.close(() => resolve());
    }),
  };
}

/** `spear agent --listen 127.0.0.1:0` as a real process; resolves with its address once it listens. */
async function startAgent(extra: readonly string[] = []): Promise<{ address: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [spearBin, 'agent', '--listen', '127.0.0.1:0', '--token', token, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const address = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const match = /ws:\/\/(\S+)/.exec(chunk.toString());
      if (match !== null) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`agent exited (${code}): ${stderr}`)));
  });
  return {
    address,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

let server: Awaited<ReturnType<typeof startRecordingServer>>;
let dir: { path: string; cleanup: () => Promise<void> };

before(async () => {
  server = await startRecordingServer();
  dir = await tempDir();
});

after(async () => {
  await server.close();
  await dir.cleanup();
});

/** The server's connections per agent id, and the source addresses each agent's connections came from. */
function byAgent(seen: readonly Seen[]): Map<number, { count: number; from: Set<string> }> {
  const agents = new Map<number, { count: number; from: Set<string> }>();
  for (const connection of seen) {
    const entry = agents.get(connection.agent) ?? { count: 0, from: new Set<string>() };
    entry.count += 1;
    entry.from.add(connection.from);
    agents.set(connection.agent, entry);
  }
  return agents;
}

test('--agent A*3 --agent B: users split 3 to 1 and interleaved; broadcasts across both still exact; A connects from its own --source-addresses', async () => {
  const [heavy, light] = await Promise.all([startAgent(['--source-addresses', '127.0.0.9']), startAgent()]);
  try {
    const file = await writeScenario(dir.path, 'weighted.yaml', `protocol: ws
target: ${server.url}
load: { users: 40, connectRate: 1000/s, hold: 3s }
groups: { size: 8 }
broadcast: { timeout: 500ms }
connection: { sourceAddresses: [127.0.0.2, 127.0.0.3, 127.0.0.4, 127.0.0.5] }
flow:
  - connect: { url: "/?group={{group}}&agent={{agent}}&user={{user}}" }
  - join
  - sleep: { duration: 500ms }
  - send: { data: "hello {{stamp}}" }
`);
    // Every user must connect, join, sleep and send before the hold ends, and every copy land in the window after it:
    // a 1 s hold left ~0.5 s for connect and join, which a loaded 2-core CI host can outlast.
    server.seen.length = 0;
    const out = join(dir.path, 'weighted.json');
    const run = await runSpear(['run', file, '--agent', `${heavy.address}*3`, '--agent', light.address, '--token', token, '--quiet', '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    const result = await readResult(out);
    assert.deepEqual(result.agents.map((agent) => [agent.status, agent.connections]), [['ok', 30], ['ok', 10]]);
    assert.equal(server.seen.length, 40);
    assert.equal(result.summary.connections?.opened, server.seen.length);
    const agents = byAgent(server.seen);
    assert.equal(agents.get(0)?.count, 30);
    assert.equal(agents.get(1)?.count, 10);
    // Every user once, on the agent the assignment names.
    const assignment = UserAssignment.of(2, [3, 1]);
    assert.deepEqual(server.seen.map((connection) => connection.user).sort((a, b) => a - b), Array.from({ length: 40 }, (_, user) => user));
    for (const connection of server.seen) assert.equal(connection.agent, assignment.agentOf(connection.user), `user ${connection.user}`);
    // A's own address replaced its part of the list (127.0.0.2-4); B kept its part (127.0.0.5).
    assert.deepEqual([...agents.get(0)!.from], ['127.0.0.9']);
    assert.deepEqual([...agents.get(1)!.from], ['127.0.0.5']);
    // Groups of 8 span both agents; each member's one broadcast reached the other 7 and itself.
    const broadcast = result.summary.broadcast!;
    assert.equal(broadcast.sent, 40);
    assert.equal(broadcast.expected, 40 * 8);
    assert.equal(broadcast.delivered, broadcast.expected);
    assert.equal(broadcast.lost, 0);
    assert.equal(broadcast.nonMember, 0);
  } finally {
    await heavy.stop();
    await light.stop();
  }
});

test('two local agents and four source addresses: each agent connects only from its own two, round-robin', async () => {
  const file = await writeScenario(dir.path, 'sources.yaml', `protocol: ws
target: ${server.url}
load: { users: 20, connectRate: 1000/s, hold: 2s }
connection: { sourceAddresses: [127.0.0.2, 127.0.0.3, 127.0.0.4, 127.0.0.5] }
flow:
  - connect: { url: "/?agent={{agent}}&user={{user}}" }
`);
  // Every user must have connected when the hold ends (a connect still open then is cut): 2 s, not 0.5 s, for a loaded host.
  server.seen.length = 0;
  const run = await runSpear(['run', file, '--agents', '2', '--quiet']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(server.seen.length, 20);
  const perAddress = new Map<string, number>();
  for (const connection of server.seen) {
    assert.ok((connection.agent === 0 ? ['127.0.0.2', '127.0.0.3'] : ['127.0.0.4', '127.0.0.5']).includes(connection.from), `agent ${connection.agent} connected from ${connection.from}`);
    perAddress.set(connection.from, (perAddress.get(connection.from) ?? 0) + 1);
  }
  assert.deepEqual([...perAddress.entries()].sort(), [['127.0.0.2', 5], ['127.0.0.3', 5], ['127.0.0.4', 5], ['127.0.0.5', 5]]);
});

test('spear agent --source-addresses refuses an address this host does not have, before it listens', async () => {
  const outcome = await runSpear(['agent', '--listen', '127.0.0.1:0', '--source-addresses', '127.0.0.2,192.0.2.77']);
  assert.equal(outcome.code, 2, outcome.stderr);
  assert.match(outcome.stderr, /--source-addresses: cannot use 192\.0\.2\.77 \(EADDRNOTAVAIL\)/);
});
