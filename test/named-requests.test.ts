/**
 * Named requests and per-request statistics (summary.byRequest): counted
 * per name on agents, merged exactly on the coordinator, summarized, gated
 * by per-request thresholds, shown in the text summary, the HTML report
 * and comparisons. End to end against a real server that answers one path
 * slowly and another with 503.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ScenarioError } from '../src/errors.js';
import { createHistogram, decodeHistogram, encodeHistogram, recordUs } from '../src/metrics/histogram.js';
import { RunMerger } from '../src/metrics/merger.js';
import { Recorder } from '../src/metrics/recorder.js';
import { readResult } from '../src/report/result-file.js';
import { parseScenario } from '../src/scenarios/load.js';
import { parseThreshold } from '../src/scenarios/threshold.js';
import type { AgentHealth, IntervalMessage } from '../src/wire/messages.js';
import { startHttpServer, type CountingServer } from './servers/http-server.js';
import { runSpear, tempDir } from './support/spear.js';

const slowMs = 20;
let server: CountingServer;
let dir: { path: string; cleanup: () => Promise<void> };

before(async () => {
  server = await startHttpServer({ delayMs: { '/slow': slowMs }, statusOf: { '/bad': 503 } });
  dir = await tempDir();
});

after(async () => {
  await server.close();
  await dir.cleanup();
});

test('two named requests over 2 agents: per-name counts equal the server\'s, add up to the total, and the slow one is slower', async () => {
  const scenario = join(dir.path, 'named.yaml');
  await writeFile(scenario, [
    `target: ${server.url}`,
    'duration: 2s',
    'load: {connections: 8}',
    'requests:',
    '  - {name: fast, path: /fast}',
    '  - {name: slow, path: /slow}',
    'thresholds: ["requests.fast.p99 < 10s", \'requests["slow"].requests > 0\']',
    '',
  ].join('\n'));
  server.paths.clear();
  const out = join(dir.path, 'named.json');
  const run = await runSpear(['run', scenario, '--agents', '2', '--progress', 'quiet', '--out', out]);
  assert.equal(run.code, 0, run.stderr);
  const result = await readResult(out);
  const byRequest = result.summary.byRequest;
  assert.ok(byRequest !== undefined, 'a run with two names has summary.byRequest');
  assert.deepEqual(Object.keys(byRequest), ['fast', 'slow']);
  const fast = byRequest.fast!;
  const slow = byRequest.slow!;
  assert.equal(fast.requests, server.paths.get('/fast'));
  assert.equal(slow.requests, server.paths.get('/slow'));
  assert.ok(slow.requests > 10, `only ${slow.requests} slow responses`);
  assert.equal(fast.requests + slow.requests, result.summary.requests);
  assert.deepEqual(fast.statusCodes, { '200': fast.requests });
  assert.equal(slow.errors + fast.errors, 0);
  assert.ok(slow.latencyMs.p50 >= slowMs, `slow p50 ${slow.latencyMs.p50} ms`);
  assert.ok(slow.latencyMs.p50 > fast.latencyMs.p50, `slow p50 ${slow.latencyMs.p50} ms, fast p50 ${fast.latencyMs.p50} ms`);
  // The merged per-name histograms hold every response, and the timeline's per-name counts add up.
  for (const [name, entry] of Object.entries(byRequest)) {
    assert.equal(decodeHistogram(result.requestHistograms?.[name] ?? '').totalCount, entry.requests, name);
    assert.equal(result.timeline.reduce((sum, tick) => sum + (tick.byRequest?.[name]?.requests ?? 0), 0), entry.requests, name);
  }
  assert.deepEqual(result.thresholds.map((threshold) => threshold.ok), [true, true]);
  assert.match(run.stdout, /^ {2}Request +count +errors +p50 +p95 +p99 +max$/m);
  assert.match(run.stdout, new RegExp(`^ {2}fast +${fast.requests} +0\\.00% `, 'm'));
  assert.match(run.stdout, new RegExp(`^ {2}slow +${slow.requests} +0\\.00% +[0-9.]+ms`, 'm'));

  // Reports: the HTML has the table and the per-request charts; a comparison compares per name.
  const html = await runSpear(['report', out, '--format', 'html', '--out', join(dir.path, 'named.html')]);
  assert.equal(html.code, 0, html.stderr);
  const page = await readFile(join(dir.path, 'named.html'), 'utf8');
  assert.match(page, /<h2>Requests<\/h2><table class="requests">/);
  assert.match(page, /"id":"requests-rate"/);
  assert.match(page, /"id":"requests-distribution"/);
  const compared = await runSpear(['report', out, '--compare', out, '--fail-if', 'requests["slow"].p99 > +10%']);
  assert.equal(compared.code, 0, compared.stderr);
  assert.match(compared.stdout, /^ {2}requests\.slow\.p99 +\S+ +\S+ +\+?0\.0%$/m);
  assert.match(compared.stdout, /^ {2}requests\.fast\.rps /m);
});

test('a threshold on one request passes or fails the run (exit 99); default names quote', async () => {
  const scenario = join(dir.path, 'gated.yaml');
  await writeFile(scenario, [
    `target: ${server.url}`,
    'duration: 1s',
    'load: {connections: 2}',
    'requests:',
    '  - {name: fast, path: /fast}',
    '  - path: /bad',
    'thresholds:',
    '  - requests.fast.errors < 1%',
    '  - requests["GET /bad"].errors < 1%',
    '',
  ].join('\n'));
  const out = join(dir.path, 'gated.json');
  const run = await runSpear(['run', scenario, '--agents', '1', '--progress', 'quiet', '--out', out]);
  assert.equal(run.code, 99, run.stderr);
  const result = await readResult(out);
  assert.equal(result.summary.byRequest?.['GET /bad']?.errorRate, 1);
  assert.deepEqual(result.thresholds.map((threshold) => [threshold.threshold, threshold.ok]), [
    ['requests.fast.errors < 1%', true],
    ['requests["GET /bad"].errors < 1%', false],
  ]);
  assert.match(run.stdout, /FAIL requests\["GET \/bad"\]\.errors < 1% \(actual 100\.00%\)/);
});

test('request names must be unique and thresholds must name one: load-time errors naming the path', () => {
  const base = 'target: http://127.0.0.1:9\n';
  const problem = (yaml: string): string => {
    try {
      parseScenario(yaml, 'named.yaml');
    } catch (error) {
      assert.ok(error instanceof ScenarioError, String(error));
      return error.message;
    }
    return 'no error';
  };
  assert.equal(problem(`${base}requests:\n  - path: /a\n  - path: /a\n    headers: {x: y}\n`),
    'named.yaml:4: requests[1]: the request name "GET /a" is already used at requests[0]: names must be unique (set name: on one of them)');
  assert.equal(problem(`${base}requests: [{name: a, path: /a}, {path: /b}]\nthresholds: [requests.b.p99 < 5ms]\n`),
    'named.yaml:3: thresholds[0]: no request is named "b" (names: "a", "GET /b")');
  assert.equal(problem(`${base}requests: [{name: "", path: /a}]\n`), 'named.yaml:2: requests[0].name: expected a name with at least one visible character');
  // A flow's http steps: named in walk order, nested ones included, unique across the flow.
  const flow = `protocol: ws\ntarget: ws://127.0.0.1:9/\nload: {users: 1}\nflow:\n  - http: {url: /ticket}\n  - connect: {}\n  - every:\n      interval: 1s\n      steps:\n        - http: {url: /ticket}\n`;
  assert.equal(problem(flow), 'named.yaml:10: flow[2].every.steps[0].http: the request name "GET /ticket" is already used at flow[0].http: names must be unique (set name: on one of them)');
  const named = parseScenario(flow.replace('- http: {url: /ticket}\n', '- http: {url: /ticket, name: ticket}\n'), 'named.yaml');
  assert.ok(named.protocol !== 'http');
  assert.deepEqual(named.flow.flatMap((step) => (step.kind === 'http' ? [step.name] : step.kind === 'every' ? step.steps.flatMap((inner) => (inner.kind === 'http' ? [inner.name] : [])) : [])), ['ticket', 'GET /ticket']);
});

test('per-request thresholds parse, quoted names included', () => {
  assert.deepEqual(parseThreshold('requests["GET /x"].p99 < 200ms'), { source: 'requests["GET /x"].p99 < 200ms', metric: 'p99', scope: 'latency', operator: '<', value: 200, percent: false, request: 'GET /x' });
  assert.deepEqual(parseThreshold('requests.login.errors < 1%'), { source: 'requests.login.errors < 1%', metric: 'errors', scope: 'latency', operator: '<', value: 1, percent: true, request: 'login' });
  assert.deepEqual(parseThreshold('requests["say \\"hi\\""].rps >= 10'), { source: 'requests["say \\"hi\\""].rps >= 10', metric: 'rps', scope: 'latency', operator: '>=', value: 10, percent: false, request: 'say "hi"' });
  assert.equal(typeof parseThreshold('requests.login.delivery.p99 < 5ms'), 'string');
  assert.equal(typeof parseThreshold('requests.login.saturated < 1'), 'string');
  assert.equal(typeof parseThreshold('requests["GET /x".p99 < 5ms'), 'string');
  // Without a name, "requests" is still the run's response count.
  assert.deepEqual(parseThreshold('requests > 0'), { source: 'requests > 0', metric: 'requests', scope: 'latency', operator: '>', value: 0, percent: false });
});

const calmHealth: AgentHealth = { loopDelayMs: { p50: 0, p99: 1, max: 2 }, elu: 0.1, cpu: 0.1, rssMb: 60, heapMb: 10, connecting: 0, connectsStarted: 0, connectsBehind: 0 };

test('per-request histograms split over 7 agents and 3 intervals merge into exactly each name\'s control', () => {
  const names = 3;
  const controls = Array.from({ length: names }, () => createHistogram());
  const recorders = Array.from({ length: 7 }, () => new Recorder(names));
  const merger = new RunMerger(recorders.map((_, id) => id));
  let seed = 7;
  for (let interval = 0; interval < 3; interval += 1) {
    for (let index = 0; index < 30_000; index += 1) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const request = index % names;
      const us = Math.round(100 + (request + 1) * 5000 * (seed / 2147483648) ** 4);
      recordUs(controls[request]!, us);
      recorders[(index * 13) % recorders.length]!.response(200, 10, us, us, request);
    }
    recorders.forEach((recorder, agentId) => {
      const message: IntervalMessage = { type: 'interval', agentId, index: interval, startMs: interval * 1000, endMs: (interval + 1) * 1000, ...recorder.takeInterval(0, 1), health: calmHealth };
      merger.add(message);
    });
  }
  controls.forEach((control, request) => {
    assert.equal(encodeHistogram(merger.requests.latency[request]!), encodeHistogram(control), `request ${request}`);
    assert.equal(merger.requests.totals[request]!.requests, control.totalCount);
  });
  const timeline = merger.timeline();
  assert.deepEqual(timeline.map((entry) => entry.requests?.map((counters) => counters.requests)), [[10_000, 10_000, 10_000], [10_000, 10_000, 10_000], [10_000, 10_000, 10_000]]);
  // One name: no breakdown, nothing extra on the wire.
  assert.equal(new Recorder(1).takeInterval(0, 0).requests, undefined);
});
