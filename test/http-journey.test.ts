import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readResult } from '../src/report/result-file.js';
import type { RunResult } from '../src/report/result.js';
import { runSpear, tempDir } from './support/spear.js';

// HTTP user journeys (issue 12 item 4): protocol http with a flow. Counts are checked against the
// server's own: every request spear counts is one the server answered, per path.

interface JourneyServer {
  readonly url: string;
  readonly counts: Map<string, number>;
  close(): Promise<void>;
}

/** POST /login {"user": n} → {"token": "t-n-k"} (a new token each time); GET /items needs "Bearer <an issued token>" (401 otherwise) → {"ok": true, "items": [1, 2]}. */
async function startJourneyServer(): Promise<JourneyServer> {
  const counts = new Map<string, number>();
  const issued = new Set<string>();
  const count = (key: string): void => {
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  const server: Server = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      const path = request.url ?? '';
      if (request.method === 'POST' && path === '/login') {
        const user = (JSON.parse(body) as { user: number }).user;
        count('login');
        // A fresh token per login: a call must carry one this server issued.
        const token = `t-${user}-${issued.size}`;
        issued.add(token);
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ token }));
      } else if (path.startsWith('/items')) {
        const authorized = issued.has((request.headers.authorization ?? '').replace(/^Bearer /, ''));
        count(authorized ? 'items' : 'items-401');
        response.statusCode = authorized ? 200 : 401;
        response.end(authorized ? JSON.stringify({ ok: true, items: [1, 2] }) : '{}');
      } else {
        count('other');
        response.statusCode = 404;
        response.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

let dir: { path: string; cleanup: () => Promise<void> };
let server: JourneyServer;

before(async () => {
  dir = await tempDir();
  server = await startJourneyServer();
});

after(async () => {
  await server.close();
  await dir.cleanup();
});

/** Runs `flow` (YAML lines) as an HTTP journey against the test server with `load`, over `agents` agents; the result. */
async function runJourney(name: string, load: string, flow: readonly string[], agents = 2): Promise<RunResult> {
  server.counts.clear();
  const file = join(dir.path, `${name}.yaml`);
  const out = join(dir.path, `${name}.json`);
  await writeFile(file, [`target: ${server.url}`, 'protocol: http', 'duration: 2s', `load: ${load}`, 'flow:', ...flow, ''].join('\n'));
  const run = await runSpear(['run', file, '--agents', String(agents), '--quiet', '--out', out]);
  assert.equal(run.code, 0, `exit ${run.code}: ${run.stderr}`);
  return readResult(out);
}

const login = '  - http: {name: login, method: POST, url: /login, body: {user: "{{user}}"}, capture: {token: token}}';

function journey(name: string, itemsCheck: string): Promise<RunResult> {
  return runJourney(name, '{users: 6, connectRate: 60/s}', [
    login,
    `  - http: {url: "/items?i={{iteration}}", headers: {authorization: "Bearer {{token}}"}, check: ${itemsCheck}}`,
    '  - sleep: {duration: 20ms}',
  ]);
}

test('users log in, capture a token, call with it and repeat their flow until the run ends', async () => {
  const result = await journey('ok', '{status: 200, match: {ok: true}, contains: "items"}');
  const logins = server.counts.get('login') ?? 0;
  const items = server.counts.get('items') ?? 0;
  assert.ok(logins > 6 * 5, `${logins} logins: users repeat the flow`);
  assert.equal(server.counts.get('items-401'), undefined, 'every call carried its user\'s captured token');
  assert.equal(result.summary.requests, logins + items);
  // Each user's last iteration may end (the run stops) between its login and its call.
  assert.ok(items >= logins - 6 && items <= logins, `${items} items for ${logins} logins`);
  assert.deepEqual(result.summary.errorCodes, {});
  assert.equal(result.scenario.protocol, 'http-flow');
});

test('a failed check is an error of kind check and ends the iteration; a 4xx without a check ends it too', async () => {
  const result = await journey('check', '{status: 201}');
  const items = server.counts.get('items') ?? 0;
  assert.ok(items > 6, `${items} items`);
  assert.deepEqual(result.summary.errorCodes, { 'check:STATUS': items });
  assert.equal(result.summary.errors.check, items);
  const contains = await journey('contains', '{contains: "nothing like this"}');
  assert.deepEqual(contains.summary.errorCodes, { 'check:CONTAINS': server.counts.get('items') });
});

test('a journey validates: only http and sleep steps, duration covers the ramp', async () => {
  const file = join(dir.path, 'bad.yaml');
  await writeFile(file, 'target: http://127.0.0.1:1\nprotocol: http\nduration: 1s\nload: {users: 2}\nflow:\n  - connect: {}\n');
  const refused = await runSpear(['validate', file]);
  assert.equal(refused.code, 3, refused.stderr);
  assert.match(refused.stderr, /flow\[0\]\.connect: an HTTP journey .* has http and sleep steps only/);
  await writeFile(file, 'target: http://127.0.0.1:1\nprotocol: http\nduration: 1s\nload: {users: 100, connectRate: 10/s}\nflow:\n  - http: {url: /}\n');
  const short = await runSpear(['validate', file]);
  assert.equal(short.code, 3, short.stderr);
  assert.match(short.stderr, /duration: the users' ramp takes 10s, longer than the run \(1s\)/);
});

function openJourney(name: string, load: string): Promise<RunResult> {
  return runJourney(name, load, [
    login,
    '  - http: {url: "/items?i={{iteration}}", headers: {authorization: "Bearer {{token}}"}, check: {status: 200}}',
    '  - sleep: {duration: 200ms}',
  ]);
}

test('open model: iterations start at load.rate on idle users, every arrival started or counted as dropped', async () => {
  // 100 iterations/s for 2 s over 2 agents: exactly 200 arrivals; 60 users cover 200 ms sleeps.
  const result = await openJourney('open', '{rate: 100/s, users: 60}');
  assert.equal(result.summary.model, 'open');
  assert.deepEqual(result.summary.arrivals, { scheduled: 200, dropped: 0, droppedWhileSaturated: 0 });
  assert.equal(server.counts.get('login'), 200, 'one login per iteration, exactly the arrivals');
  assert.equal(server.counts.get('items'), 200);
  assert.equal(server.counts.get('items-401'), undefined);
  assert.equal(result.summary.requests, 400);
  // Two users for 100/s of 200 ms iterations: most arrivals find no idle user within 100 ms.
  const starved = await openJourney('starved', '{rate: 100/s, users: 2, maxDelay: 100ms}');
  const arrivals = starved.summary.arrivals;
  assert.ok(arrivals !== undefined && arrivals.scheduled === 200, JSON.stringify(arrivals));
  assert.ok(arrivals.dropped > 100, `${arrivals.dropped} dropped`);
  assert.equal((server.counts.get('login') ?? 0) + arrivals.dropped, 200, 'every arrival either started (its login reached the server) or was dropped');
  // Step 1 is timed from the arrival: an iteration that waited for a user shows it, its service time does not.
  assert.ok(starved.summary.latencyMs.max > starved.summary.serviceTimeMs.max, `latency max ${starved.summary.latencyMs.max} ms, service time max ${starved.summary.serviceTimeMs.max} ms`);
});

test('an open journey validates: rate or stages of rates, users optional, closed-model keys refused', async () => {
  const file = join(dir.path, 'open-plan.yaml');
  await writeFile(file, 'target: http://127.0.0.1:1\nprotocol: http\nduration: 4s\nload: {rate: 50/s}\nflow:\n  - http: {url: /}\n  - sleep: {duration: 1s}\n');
  const described = await runSpear(['validate', file, '--agents', '2']);
  assert.equal(described.code, 0, described.stderr);
  // Default users: 50/s × (1 s of sleep + 2 s) = 150.
  assert.match(described.stdout, /load {8}open model: iterations at 50\/s for 4s; 200 in all on up to 150 users, dropped after waiting 10s/);
  await writeFile(file, 'target: http://127.0.0.1:1\nprotocol: http\nduration: 4s\nload: {rate: 50/s, hold: 1s}\nflow:\n  - http: {url: /}\n');
  const refused = await runSpear(['validate', file]);
  assert.equal(refused.code, 3, refused.stderr);
  assert.match(refused.stderr, /load\.hold: unknown key/);
});

test('onFail: continue counts a failed check and goes on to the next step', async () => {
  const result = await runJourney('continue', '{users: 4}', [
    login,
    '  - http: {name: first, url: /items, headers: {authorization: "Bearer {{token}}"}, check: {status: 201, onFail: continue}}',
    '  - http: {name: second, url: /items, headers: {authorization: "Bearer {{token}}"}}',
    '  - sleep: {duration: 20ms}',
  ], 1);
  const first = result.summary.byRequest?.first?.requests ?? 0;
  const second = result.summary.byRequest?.second?.requests ?? 0;
  assert.ok(first > 4, `${first} first calls`);
  assert.deepEqual(result.summary.errorCodes, { 'check:STATUS': first }, 'every first call failed its check, once');
  // Each user's last iteration may end (the run stops) between the two calls.
  assert.ok(second >= first - 4 && second <= first, `${second} second calls after ${first} failed first ones`);
  assert.equal(server.counts.get('items'), first + second);
});
