import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runSpear, tempDir } from './support/spear.js';

let dir: { path: string; cleanup: () => Promise<void> };

before(async () => {
  dir = await tempDir();
});

after(async () => {
  await dir.cleanup();
});

const target = 'target: http://127.0.0.1:8080';
const sio = 'protocol: socketio\ntarget: http://127.0.0.1:3000';

/** Nine lines whose aliases expand to a billion nodes ("billion laughs"). */
const laughs = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...[...'bcdefghi'].map((name, index) => `${name}: &${name} [${Array<string>(10).fill(`*${'abcdefgh'[index]!}`).join(', ')}]`)].join('\n') + '\n';

/** Broken scenario → the exact one line spear must print (FILE stands for the file's path). */
const broken: readonly { name: string; yaml: string; error: string }[] = [
  { name: 'rate', yaml: `${target}\nduration: 5s\nload:\n  connections: 10\n  rate: fast\n`, error: 'FILE:5: load.rate: expected "<number>/s", got "fast"' },
  { name: 'unknown-key', yaml: `${target}\nlaod:\n  connections: 10\n`, error: 'FILE:2: laod: unknown key (expected one of: name, target, protocol, duration, requests, load, timeouts, thresholds, agents, interval, tls, abortOnFail, flow, groups, reconnect, broadcast, connection, socketio, feeder)' },
  { name: 'negative', yaml: `${target}\nload:\n  connections: -5\n`, error: 'FILE:3: load.connections: expected an integer from 1 to 1000000, got -5' },
  { name: 'target-url', yaml: 'target: 127.0.0.1:8080\n', error: 'FILE:1: target: expected a URL such as "http://127.0.0.1:8080", got "127.0.0.1:8080"' },
  { name: 'target-path', yaml: 'target: http://127.0.0.1:8080/index.html\nrequests:\n  - path: /\n', error: 'FILE:1: target: with requests listed, give the target as an origin such as "http://127.0.0.1:8080" and the path under requests (a full URL is for a scenario without requests, or spear run URL), got "http://127.0.0.1:8080/index.html"' },
  { name: 'no-target', yaml: 'load:\n  connections: 5\n', error: 'FILE:1: target: missing: give the server to load, such as "http://127.0.0.1:8080" (or --target)' },
  { name: 'bad-yaml', yaml: `${target}\nload:\n  connections: 5\n   rate: 10/s\n`, error: 'FILE:3: invalid YAML: Nested mappings are not allowed in compact mappings' },
  { name: 'rate-and-stages', yaml: `${target}\nload:\n  rate: 10/s\n  stages:\n    - {duration: 5s, rate: 10/s}\n`, error: 'FILE:4: load.stages: give either load.rate (constant) or load.stages (ramping), not both' },
  { name: 'threshold-unit', yaml: `${target}\nthresholds:\n  - p99 < 50\n`, error: 'FILE:3: thresholds[0]: p99 needs a duration with a unit such as "50ms", got "50"' },
  { name: 'threshold-metric', yaml: `${target}\nthresholds:\n  - p42 < 50ms\n`, error: 'FILE:3: thresholds[0]: unknown metric "p42" (expected one of: p50, p75, p90, p95, p99, p999, min, mean, max, rps, errors, dropped, requests, lost, disconnects, saturated, neverStarted)' },
  { name: 'stage-duration', yaml: `${target}\nload:\n  stages:\n    - duration: 5s\n      rate: 10/s\n    - duration: soon\n      rate: 20/s\n`, error: 'FILE:6: load.stages[1].duration: expected a duration such as "20s", got "soon"' },
  { name: 'pipelining-open', yaml: `${target}\nload:\n  pipelining: 4\n  rate: 100/s\n`, error: 'FILE:3: load.pipelining: only applies to the closed model (without load.rate or load.stages)' },
  { name: 'request-key', yaml: `${target}\nrequests:\n  - path: /a\n    methd: POST\n`, error: 'FILE:4: requests[0].methd: unknown key (expected one of: name, method, path, headers, body)' },
  { name: 'request-path', yaml: `${target}\nrequests:\n  - path: index.html\n`, error: 'FILE:3: requests[0].path: expected a path starting with "/", got "index.html"' },
  { name: 'duplicate-key', yaml: `${target}\nduration: 5s\nduration: 6s\n`, error: 'FILE:3: invalid YAML: Map keys must be unique' },
  { name: 'duration-with-stages', yaml: `${target}\nduration: 5s\nload:\n  stages:\n    - {duration: 5s, rate: 10/s}\n`, error: 'FILE:2: duration: not allowed with load.stages: the stages\' durations add up to the run\'s length' },
  { name: 'protocol', yaml: `protocol: mqtt\n${target}\n`, error: 'FILE:1: protocol: expected one of "http", "ws", "socketio", got "mqtt"' },
  { name: 'journey-connect', yaml: `${target}\nload: { users: 10 }\nflow:\n  - http: { url: /login }\n  - connect: {}\n`, error: 'FILE:5: flow[1].connect: an HTTP journey (protocol "http" with a flow) has http and sleep steps only; connect needs protocol "ws" or "socketio"' },
  { name: 'journey-requests', yaml: `${target}\nrequests:\n  - path: /\nload: { users: 10 }\nflow:\n  - http: { url: / }\n`, error: 'FILE:2: requests: give either requests (each connection repeats them) or flow (each user runs its steps), not both' },
  { name: 'journey-ramp', yaml: `${target}\nduration: 10s\nload: { users: 100, connectRate: 1/s }\nflow:\n  - http: { url: / }\n`, error: 'FILE:2: duration: the users\' ramp takes 1m40s, longer than the run (10s): lengthen duration or raise load.connectRate' },
  { name: 'feeder-on-http', yaml: `${target}\nfeeder: users.csv\n`, error: 'FILE:2: feeder: applies to long-connection scenarios: set protocol to "ws" or "socketio"' },
  { name: 'users-connections', yaml: `${sio}\nload: { connections: 10 }\nflow:\n  - connect: {}\n`, error: 'FILE:3: load.connections: applies to protocol "http"; long-connection scenarios set load.users (and load.connectRate or load.stages, load.hold)' },
  { name: 'no-flow', yaml: `${sio}\nload: { users: 10 }\n`, error: 'FILE:1: flow: missing: the steps each virtual user runs (connect, emit/send, expect, join, every, ...)' },
  { name: 'emit-before-connect', yaml: `${sio}\nload: { users: 10 }\nflow:\n  - emit: { event: auth }\n  - connect: {}\n`, error: 'FILE:5: flow[0].emit: emit before any connect step: connect first' },
  { name: 'unknown-variable', yaml: `${sio}\nload: { users: 10 }\nflow:\n  - connect: {}\n  - emit: { event: auth, data: { token: "{{tokn}}" } }\n`, error: 'FILE:6: flow[1].emit.data: unknown variable {{tokn}} (known here: user, group, agent, iteration, stamp, random, time; capture it in an earlier http or expect step)' },
  { name: 'send-on-socketio', yaml: `${sio}\nload: { users: 10 }\nflow:\n  - connect: {}\n  - send: { data: hi }\n`, error: 'FILE:6: flow[1].send: send writes plain WebSocket messages: use emit with protocol "socketio"' },
  { name: 'two-step-kinds', yaml: `${sio}\nload: { users: 10 }\nflow:\n  - connect: {}\n    join: {}\n`, error: 'FILE:5: flow[0]: expected one step kind per list item (one of: http, connect, emit, send, expect, join, sleep, every), got connect and join' },
  { name: 'eio', yaml: `${sio}\nload: { users: 10 }\nsocketio: { eio: 5 }\nflow:\n  - connect: {}\n`, error: 'FILE:4: socketio.eio: expected 4 (Socket.IO v3/v4 servers) or 3 (Socket.IO v2, netty-socketio), got 5' },
  // Node's timers fire at once past 2^31 ms (~596 h): durations and runs stop at 500h, timeouts and delays at 24h.
  { name: 'duration-overflow', yaml: `${target}\nduration: 600h\n`, error: 'FILE:2: duration: expected a duration of at most 500h, got "600h"' },
  { name: 'stages-overflow', yaml: `${target}\nload:\n  stages:\n    - {duration: 300h, rate: 10/s}\n    - {duration: 300h, rate: 10/s}\n`, error: 'FILE:4: load.stages: the stages add up to 600h; a run lasts at most 500h' },
  { name: 'timeout-overflow', yaml: `${target}\ntimeouts: {request: 2147484s}\n`, error: 'FILE:2: timeouts.request: expected a duration of at most 24h, got "2147484s"' },
  { name: 'ramp-overflow', yaml: `${sio}\nload: { users: 1000, connectRate: 1/h }\nflow:\n  - connect: {}\n`, error: 'FILE:3: load: the ramp (1000h) and load.hold (10s) add up to more than a run may last (500h)' },
  { name: 'expect-overflow', yaml: `${sio}\nload: { users: 10 }\nflow:\n  - connect: {}\n  - expect: { event: hi, timeout: 600h }\n`, error: 'FILE:6: flow[1].expect.timeout: expected a duration of at most 24h, got "600h"' },
  { name: 'sleep-overflow', yaml: `${sio}\nload: { users: 10 }\nflow:\n  - connect: {}\n  - sleep: { duration: 597h }\n`, error: 'FILE:6: flow[1].sleep.duration: expected a duration of at most 500h, got "597h"' },
  { name: 'interval-floor', yaml: `${target}\ninterval: 1us\n`, error: 'FILE:2: interval: expected a duration of at least 100ms, got "1us"' },
  { name: 'rate-ceiling', yaml: `${target}\nload:\n  rate: 20000000/s\n`, error: 'FILE:3: load.rate: expected a rate of at most 10000000/s, got "20000000/s"' },
  // YAML aliases: bounded expansion (billion laughs), no cycles, no alias before its anchor.
  { name: 'billion-laughs', yaml: `${target}\n${laughs}`, error: 'FILE: invalid YAML: aliases expand too far (over 100 copies, nested ones included)' },
  { name: 'alias-cycle', yaml: `${target}\nrequests: &r\n  - path: /\n    body: *r\n`, error: 'FILE:4: invalid YAML: alias *r lies inside the node it names (a cycle)' },
  { name: 'alias-unknown', yaml: `${target}\nrequests:\n  - body: *nope\n`, error: 'FILE:3: invalid YAML: alias *nope has no anchor &nope before it' },
];

for (const { name, yaml, error } of broken) {
  test(`broken scenario (${name}) fails with its exact one-line error and exit code 3`, async () => {
    const file = join(dir.path, `${name}.yaml`);
    await writeFile(file, yaml);
    for (const command of ['validate', 'run']) {
      const outcome = await runSpear([command, file]);
      assert.equal(outcome.code, 3, `${command}: ${outcome.stderr}`);
      assert.equal(outcome.stderr, `spear: ${error.replace('FILE', file)}\n`);
      assert.equal(outcome.stdout, '');
    }
  });
}

/** Other inputs that once ended in a stack trace: each is one line and a documented exit code. */
const badInputs: readonly { name: string; files: Record<string, string>; args: readonly string[]; code: number; error: string }[] = [
  { name: 'listen-port', files: {}, args: ['agent', '--listen', '127.0.0.1:99999'], code: 2, error: '--listen 127.0.0.1:99999: port 99999 is out of range (0 to 65535; 0 picks a free port)' },
  { name: 'tls-cert', files: { 'cert.pem': 'hello\n' }, args: ['agent', '--listen', '127.0.0.1:0', '--tls-cert', 'DIR/cert.pem', '--tls-key', 'DIR/cert.pem'], code: 2, error: '--tls-cert DIR/cert.pem: not a PEM certificate: give a file with a -----BEGIN CERTIFICATE----- block' },
  { name: 'report-cut', files: { 'cut.json': '{\n  "format": "spear-result",\n  "version": 1,\n  "summ' }, args: ['report', 'DIR/cut.json'], code: 2, error: 'cannot read the result DIR/cut.json: not valid JSON (cut short, or not a result file)' },
  { name: 'report-empty', files: { 'empty.json': '{"format": "spear-result", "version": 1}' }, args: ['report', 'DIR/empty.json'], code: 2, error: 'DIR/empty.json is damaged or incomplete: no "scenario" object' },
];

for (const { name, files, args, code, error } of badInputs) {
  test(`bad input (${name}) fails with its exact one-line error and exit code ${code}`, async () => {
    for (const [file, text] of Object.entries(files)) await writeFile(join(dir.path, file), text);
    const outcome = await runSpear(args.map((arg) => arg.replace('DIR', dir.path)), { timeoutMs: 10_000 });
    assert.equal(outcome.stderr, `spear: ${error.replaceAll('DIR', dir.path)}\n`);
    assert.equal(outcome.code, code);
    assert.equal(outcome.stdout, '');
  });
}

test('a missing scenario file is named, exit code 3', async () => {
  const outcome = await runSpear(['validate', join(dir.path, 'nope.yaml')]);
  assert.equal(outcome.code, 3);
  assert.equal(outcome.stderr, `spear: ${join(dir.path, 'nope.yaml')}: cannot read the scenario file (no such file)\n`);
});

test('a bad command-line value names the flag', async () => {
  const file = join(dir.path, 'good.yaml');
  await writeFile(file, `${target}\nload:\n  connections: 4\n`);
  const outcome = await runSpear(['validate', file, '--rate', 'fast']);
  assert.equal(outcome.code, 3);
  assert.equal(outcome.stderr, 'spear: --rate: load.rate: expected "<number>/s", got "fast"\n');
});

test('run without a scenario or --target is a usage error, exit code 2', async () => {
  const outcome = await runSpear(['run', '-c', '5']);
  assert.equal(outcome.code, 2);
  assert.equal(outcome.stderr, 'spear: give a scenario file or --target URL (e.g. spear run --target http://127.0.0.1:8080 -c 100 -d 10s)\n');
});

test('validate prints the plan split over agents without sending load', async () => {
  const file = join(dir.path, 'plan.yaml');
  await writeFile(file, `${target}\nduration: 20s\nload:\n  connections: 5\n  rate: 1000/s\nagents: 2\n`);
  const outcome = await runSpear(['validate', file]);
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.match(outcome.stdout, /open model: 1000\/s for 20s; 20000 arrivals on up to 5 connections/);
  assert.match(outcome.stdout, /agent 0: 3 connections, 600\/s at the end/);
  assert.match(outcome.stdout, /agent 1: 2 connections, 400\/s at the end/);
});
