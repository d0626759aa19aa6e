import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentHandle, type AgentLink } from '../src/coordinator/agent-handle.js';
import { WireError } from '../src/errors.js';
import { createHistogram, decodeHistogram, encodeHistogram, recordUs } from '../src/metrics/histogram.js';
import { RunMerger } from '../src/metrics/merger.js';
import { Recorder } from '../src/metrics/recorder.js';
import { SessionRecorder } from '../src/metrics/session-recorder.js';
import type { AgentHealth, AgentMessage, CoordinatorMessage, IntervalMessage } from '../src/wire/messages.js';
import { ReceiptRows } from '../src/wire/receipt-rows.js';

/** A deterministic, heavy-tailed latency dataset in µs (no randomness: reproducible failures). */
function dataset(size: number): number[] {
  const values: number[] = [];
  let seed = 12345;
  for (let index = 0; index < size; index += 1) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const uniform = seed / 2147483648;
    values.push(Math.round(200 + 50_000 * uniform ** 6 + (index % 97) * 13));
  }
  return values;
}

const percentiles = [0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100];

const calmHealth: AgentHealth = { loopDelayMs: { p50: 0, p99: 1, max: 2 }, elu: 0.1, cpu: 0.1, rssMb: 60, heapMb: 10, connecting: 0, connectsStarted: 0, connectsBehind: 0 };

test('a dataset split over 7 agents and 3 intervals merges into exactly the single control histogram', () => {
  const values = dataset(70_001);
  const control = createHistogram();
  for (const value of values) recordUs(control, value);

  const agents = 7;
  const intervals = 3;
  const recorders = Array.from({ length: agents }, () => new Recorder());
  const merger = new RunMerger(Array.from({ length: agents }, (_, id) => id));
  const chunk = Math.ceil(values.length / intervals);
  for (let interval = 0; interval < intervals; interval += 1) {
    values.slice(interval * chunk, (interval + 1) * chunk).forEach((value, index) => {
      recorders[index % agents]!.response(200, 100, value, value);
    });
    recorders.forEach((recorder, agentId) => {
      const { counters, histograms } = recorder.takeInterval(0, 1);
      const message: IntervalMessage = { type: 'interval', agentId, index: interval, startMs: interval * 1000, endMs: (interval + 1) * 1000, counters, histograms, health: calmHealth };
      merger.add(message);
    });
  }

  assert.equal(merger.latency.totalCount, control.totalCount);
  assert.equal(merger.totals.requests, values.length);
  assert.equal(merger.totals.bytesRead, values.length * 100);
  for (const percentile of percentiles) {
    assert.equal(merger.latency.getValueAtPercentile(percentile), control.getValueAtPercentile(percentile), `p${percentile}`);
  }
  // The wire format keeps buckets, not the exact extremes: max comes back as its bucket's top (within 0.1%),
  // exactly as the control itself would after one trip over the wire.
  const controlOverWire = decodeHistogram(encodeHistogram(control));
  assert.equal(merger.latency.maxValue, controlOverWire.maxValue);
  assert.ok(Math.abs(merger.latency.maxValue - control.maxValue) <= control.maxValue * 0.001);
  assert.equal(merger.latency.minNonZeroValue, controlOverWire.minNonZeroValue);
  assert.equal(merger.latency.mean, controlOverWire.mean);
  // Bucket for bucket: the encodings are identical.
  assert.equal(encodeHistogram(merger.latency), encodeHistogram(control));

  // The timeline's per-interval histograms add up to the total as well.
  const timeline = merger.timeline();
  assert.deepEqual(timeline.map((entry) => entry.index), [0, 1, 2]);
  const fromTimeline = createHistogram();
  for (const entry of timeline) fromTimeline.add(decodeHistogram(entry.latency));
  assert.equal(encodeHistogram(fromTimeline), encodeHistogram(control));
  assert.deepEqual(timeline.map((entry) => entry.agents), [7, 7, 7]);
});

test('an interval closes once every running agent reported it, or finished', () => {
  const merger = new RunMerger([0, 1]);
  const empty = new Recorder().takeInterval(0, 0);
  const message = (agentId: number, index: number): IntervalMessage => ({ type: 'interval', agentId, index, startMs: index, endMs: index + 1, ...empty, health: calmHealth });
  assert.deepEqual(merger.add(message(0, 0)), []);
  assert.deepEqual(merger.add(message(0, 1)).map((entry) => entry.index), []);
  assert.deepEqual(merger.add(message(1, 0)).map((entry) => entry.index), [0]);
  // Agent 1 is lost: interval 1 no longer waits for it.
  assert.deepEqual(merger.finishAgent(1).map((entry) => entry.index), [1]);
});

test('histograms survive the wire encoding exactly, including clamped extremes', () => {
  const histogram = createHistogram();
  for (const value of [0, 1, 999, 1_000_001, 5e12]) recordUs(histogram, value);
  const decoded = decodeHistogram(encodeHistogram(histogram));
  assert.equal(decoded.totalCount, 5);
  assert.equal(decoded.getValueAtPercentile(50), histogram.getValueAtPercentile(50));
  assert.equal(histogram.maxValue, 3_600_000_000);
  assert.ok(Math.abs(decoded.maxValue - histogram.maxValue) <= histogram.maxValue * 0.001);
});

/** What a merger shows of itself: totals, histograms, per-agent counters and the intervals it closed. */
function mergerState(merger: RunMerger): string {
  return JSON.stringify({
    totals: merger.totals, byAgent: [...merger.byAgent], latency: encodeHistogram(merger.latency), serviceTime: encodeHistogram(merger.serviceTime),
    queue: encodeHistogram(merger.queue), delivery: encodeHistogram(merger.sessions.delivery), sessions: merger.sessions.totals,
    health: merger.fleetHealth.get(0)?.intervals, startMs: merger.startMs, endMs: merger.endMs,
  });
}

test('a report with a malformed histogram throws WireError and merges nothing of itself', () => {
  const recorder = new Recorder();
  const sessions = new SessionRecorder();
  const report = (index: number): IntervalMessage => {
    recorder.response(200, 100, 1500 + index, 1400);
    sessions.delivered(3000 + index);
    const { counters, histograms } = recorder.takeInterval(0, 1);
    return { type: 'interval', agentId: 0, index, startMs: index * 1000, endMs: (index + 1) * 1000, counters, histograms, sessions: { ...sessions.takeInterval(0, 0, 0), sent: [], receipts: ReceiptRows.of([]), membership: [] }, health: calmHealth };
  };
  const merger = new RunMerger([0, 1]);
  merger.add(report(0));
  const before = mergerState(merger);
  const good = report(1);
  const broken: IntervalMessage[] = [
    { ...good, histograms: { ...good.histograms, queue: 'HISTFAAAA' } },
    { ...good, histograms: { ...good.histograms, serviceTime: good.histograms.serviceTime.slice(0, 40) + 'AAAA' + good.histograms.serviceTime.slice(44) } },
    { ...good, sessions: { ...good.sessions!, histograms: { ...good.sessions!.histograms, delivery: 'not a histogram' } } },
  ];
  for (const message of broken) {
    assert.throws(() => merger.add(message), (error: unknown) => error instanceof WireError && /^agent 0 interval 1: /.test(error.message));
    assert.equal(mergerState(merger), before);
  }
  merger.add(good);
  assert.notEqual(mergerState(merger), before);
  assert.equal(merger.latency.totalCount, 2);
});

test('an agent whose report cannot be merged fails, and the run goes on without it', () => {
  let receive: (message: AgentMessage) => void = () => undefined;
  const sent: CoordinatorMessage[] = [];
  let closed = 0;
  const link: AgentLink = {
    send: (message) => sent.push(message),
    onMessage: (listener) => {
      receive = listener;
    },
    onClose: () => undefined,
    close: () => {
      closed += 1;
    },
  };
  const merger = new RunMerger([0]);
  const ended: string[] = [];
  const handle = new AgentHandle(0, 'agent 0', link, {
    interval: (message) => merger.add(message),
    ended: (agent) => ended.push(`${agent.status}: ${agent.reason ?? ''}`),
  });
  handle.start(Date.now(), 1000);
  const { counters, histograms } = new Recorder().takeInterval(0, 0);
  receive({ type: 'interval', agentId: 0, index: 0, startMs: 0, endMs: 1000, counters, histograms: { ...histograms, latency: '####'.repeat(8) }, health: calmHealth });
  assert.equal(handle.status, 'failed');
  assert.deepEqual(ended, ['failed: agent 0: invalid interval report: agent 0 interval 0: histograms.latency: not an encoded histogram (invalid base64)']);
  assert.ok(sent.some((message) => message.type === 'stop'));
  assert.equal(closed, 1);
  assert.equal(merger.latency.totalCount, 0);
});
