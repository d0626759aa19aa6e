import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { AbortOnFail } from '../src/coordinator/abort-on-fail.js';
import { emptyCounters } from '../src/metrics/counters.js';
import type { AgentIntervalHealth } from '../src/metrics/generator-verdict.js';
import { createHistogram, encodeHistogram, summarizeMs } from '../src/metrics/histogram.js';
import type { MergedInterval } from '../src/metrics/merger.js';
import { RunMerger } from '../src/metrics/merger.js';
import { emptySessionCounters } from '../src/metrics/session-recorder.js';
import { runMismatches } from '../src/report/compare.js';
import { fitLiveLine, intervalFields, wrap } from '../src/report/live-line.js';
import { createProgress } from '../src/report/progress.js';
import { buildResult, type RunResult } from '../src/report/result.js';
import { parseScenario } from '../src/scenarios/load.js';
import type { IntervalCounters, SessionCounters } from '../src/wire/messages.js';

// Pure pieces of issue 12 (items 6, 7): the live line's width, the runoff interval, the compare
// warnings and the abort decision. The end-to-end runs are in no-success.test.ts.

const empty = encodeHistogram(createHistogram());

function interval(index: number, startMs: number, endMs: number, counters: Partial<IntervalCounters>, extra: { sessions?: Partial<SessionCounters>; health?: AgentIntervalHealth[] } = {}): MergedInterval {
  return {
    index, startMs, endMs, agents: 1,
    counters: { ...emptyCounters(), ...counters },
    latencyMs: { ...summarizeMs(createHistogram()), p50: 1.12, p99: 17.14 },
    latency: empty,
    sessions: extra.sessions === undefined ? undefined : { ...emptySessionCounters(), ...extra.sessions },
    health: extra.health ?? [],
    saturatedAgents: 0,
  };
}

function busy(agent: number): AgentIntervalHealth {
  return { agent, index: 1, startMs: 1000, endMs: 2000, loopDelayMs: { p50: 30, p99: 120, max: 240 }, elu: 0.5, cpu: 0.5, rssMb: 120, heapMb: 40, connecting: 0, connectsStarted: 0, connectsBehind: 0 };
}

const wide = interval(11, 11_000, 12_000, { requests: 1_234_567, errors: { 'connect:ECONNREFUSED': 123_456 }, statuses: { '503': 7 }, dropped: 98_765, connections: 10_000, inFlight: 10_000 }, { health: [busy(1), busy(2), busy(3)] });

test('the live line fits 80 columns: the minor gauges go first, then the bar, then other fields; req/s, p99 and errors stay', () => {
  const quiet = fitLiveLine(intervalFields(interval(0, 0, 1000, { requests: 100, connections: 2 })), { elapsedS: 1, durationS: 20 }, 80);
  assert.ok(quiet.length <= 80, quiet);
  assert.match(quiet, /^[█░]{10,30} 1\/20s 100 req\/s  p50 1\.12ms  p99 17\.14ms  errors 0  conns 2$/, 'in flight gives way to the bar');
  const roomy = fitLiveLine(intervalFields(interval(0, 0, 1000, { requests: 100, connections: 2 })), { elapsedS: 1, durationS: 20 }, 120);
  assert.match(roomy, /^[█░]{30} 1\/20s 100 req\/s  p50 1\.12ms  p99 17\.14ms  errors 0  conns 2  in flight 0$/, 'room for everything');

  const line = fitLiveLine(intervalFields(wide), { elapsedS: 12, durationS: 3600 }, 80);
  assert.ok(line.length <= 80, `${line.length} columns: ${line}`);
  assert.doesNotMatch(line, /[█░]/, 'no bar');
  assert.match(line, /^12\/3600s 1234567 req\/s  p99 17\.14ms  errors 123463  SPEAR BUSY: agents 1, 2, 3$/);

  for (const width of [40, 60, 100, 200]) assert.ok(fitLiveLine(intervalFields(wide), { elapsedS: 12, durationS: 3600 }, width).length <= width, `width ${width}`);
  assert.match(fitLiveLine(intervalFields(wide), { elapsedS: 12, durationS: 3600 }, 300), /in flight 10000  SPEAR BUSY: agent 1 load-loop delay p99 120 ms > 50 ms; agent 2/);

  const users = fitLiveLine(intervalFields(interval(3, 3000, 4000, { errors: { 'disconnect:SPEAR_PING_TIMEOUT': 5 } }, { sessions: { connected: 26_999, joined: 26_999, messagesReceived: 1_234_567, delivered: 1_234_567, disconnects: 5, failed: 2, reconnects: 4 } })), { elapsedS: 4, durationS: 7200 }, 80);
  assert.ok(users.length <= 80, users);
  assert.match(users, /^4\/7200s users  26999 connected.*errors 5.*failed 2/);

  const note = 'spear: stopping early after 10.0s (abortOnFail: 10s): no request succeeded: 1,234 connect:ECONNREFUSED (nothing listens at the target address: check the URL and that the server is up)';
  const wrapped = wrap(note, 80);
  assert.ok(wrapped.length > 1 && wrapped.every((line) => line.length <= 80), 'a note printed above the bars is broken, not clipped');
  assert.equal(wrapped.join(' '), note);
});

test('the last, partial interval of a run is not printed again under the same second', () => {
  const stream = new PassThrough();
  let written = '';
  stream.on('data', (chunk: Buffer) => {
    written += chunk.toString();
  });
  const progress = createProgress('lines', stream as unknown as NodeJS.WriteStream);
  progress.started?.({ agents: 1, startAtMs: 0, durationMs: 2000 });
  progress.interval?.(interval(0, 0, 1000, { requests: 10 }));
  progress.interval?.(interval(1, 1000, 2000, { requests: 10 }));
  progress.interval?.(interval(2, 2000, 2040, { requests: 1 }));
  progress.aborted?.({ reason: 'no request succeeded: 3 connect:ECONNREFUSED', afterMs: 2000, abortOnFailMs: 2000 });
  progress.close();
  const lines = written.trim().split('\n');
  assert.deepEqual(lines.slice(1, 3).map((line) => line.slice(0, 7)), ['[   1s]', '[   2s]']);
  assert.equal(lines[3], 'spear: stopping early after 2.0s (abortOnFail: 2s): no request succeeded: 3 connect:ECONNREFUSED');
  assert.equal(lines.length, 4, written);
});

function resultOf(yaml: string, durationS: number): RunResult {
  const result = buildResult(parseScenario(yaml, 'compare.yaml'), new RunMerger([0]), [{ id: 0, pid: null, status: 'ok', reason: undefined, connections: 0, clock: undefined, lateMsMax: 0 }], false);
  return { ...result, summary: { ...result.summary, durationS } };
}

test('report --compare warns when the runs differ in model, duration (>10%) or target', () => {
  const closed = resultOf('target: http://127.0.0.1:8080\nduration: 20s\n', 20.05);
  assert.deepEqual(runMismatches(closed, resultOf('target: http://127.0.0.1:8080\nduration: 20s\n', 21.5)), [], '7% apart is the same run length');
  assert.deepEqual(runMismatches(closed, resultOf('target: http://127.0.0.1:9090\nload: { rate: 100/s }\nduration: 5s\n', 5.02)), [
    'WARNING: the runs differ in load model: baseline closed model, current open model: their latencies and rates measure different things.',
    'WARNING: the runs differ in duration by more than 10%: baseline 20.1s, current 5.0s.',
    'WARNING: the runs differ in target: baseline http://127.0.0.1:8080, current http://127.0.0.1:9090.',
  ]);
  const users = resultOf('protocol: ws\ntarget: http://127.0.0.1:8080\nload: { users: 10, hold: 20s }\nflow: [connect: {}]\n', 20.05);
  assert.match(runMismatches(closed, users)[0] ?? '', /baseline closed model, current users model \(ws\)/);
});

test('abortOnFail: fires once after N seconds of failures only; a success, or the planned end, disarms it', () => {
  const refused = { errors: { 'connect:ECONNREFUSED': 10 } };
  const watch = new AbortOnFail(3000, 'responses', 30_000);
  assert.equal(watch.add(interval(0, 5000, 6000, refused)), undefined);
  assert.equal(watch.add(interval(1, 6000, 7000, {})), undefined, 'a silent interval neither triggers nor disarms');
  const abort = watch.add(interval(2, 7000, 8000, refused));
  assert.deepEqual(abort, { reason: 'no request succeeded: 20 connect:ECONNREFUSED (nothing listens at the target address: check the URL and that the server is up)', afterMs: 3000, abortOnFailMs: 3000 });
  assert.equal(watch.add(interval(3, 8000, 9000, refused)), undefined, 'once');

  const recovering = new AbortOnFail(2000, 'responses', 30_000);
  assert.equal(recovering.add(interval(0, 0, 1000, { statuses: { '503': 1 }, requests: 1 })), undefined);
  assert.equal(recovering.add(interval(1, 1000, 2000, refused)), undefined);
  assert.equal(recovering.add(interval(2, 2000, 3000, refused)), undefined, 'one response (a 503 too) disarms it');

  const short = new AbortOnFail(2000, 'responses', 2000);
  assert.equal(short.add(interval(0, 0, 1000, refused)), undefined);
  assert.equal(short.add(interval(1, 1000, 2000, refused)), undefined, 'the run ends anyway');

  const users = new AbortOnFail(1000, 'connects', 30_000);
  const ticketOnly = users.add(interval(0, 0, 1000, { requests: 5, statuses: { '200': 5 }, errors: { 'handshake:UPGRADE_403': 5 } }, { sessions: { failed: 5 } }));
  assert.match(ticketOnly?.reason ?? '', /^no user connected: 5 handshake:UPGRADE_403/, 'a ticket response is no success for users');
});
