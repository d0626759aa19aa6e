import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FleetHealth } from '../src/metrics/fleet-health.js';
import { judgeGenerator, saturationLookup, summarizeAgentHealth, type AgentIntervalHealth } from '../src/metrics/generator-verdict.js';
import { HealthRows } from '../src/metrics/health-rows.js';
import { RunMerger } from '../src/metrics/merger.js';
import { Recorder } from '../src/metrics/recorder.js';
import { intervalSaturation, saturationThresholds } from '../src/metrics/saturation.js';
import type { AgentHealth, IntervalMessage } from '../src/wire/messages.js';
import { seededRandom } from './support/response-primitives.js';

/**
 * The coordinator keeps agents' health bounded (FleetHealth: running sums,
 * saturated spans) instead of every interval of every agent. Everything
 * read from it must equal what the per-interval lists gave: the reference
 * functions below are the list-based code it replaced, verbatim.
 */

const calm: AgentHealth = { loopDelayMs: { p50: 1, p99: 4, max: 9 }, elu: 0.3, cpu: 0.3, rssMb: 100, heapMb: 20, connecting: 0, connectsStarted: 0, connectsBehind: 0 };

/** Random health: mostly calm, now and then past one of the limits, with connects now and then. */
function healthOf(next: () => number): AgentHealth {
  const roll = next();
  const p99 = roll < 0.1 ? 60 + next() * 200 : 1 + next() * 20;
  return {
    loopDelayMs: { p50: 1, p99: Math.round(p99 * 10) / 10, max: roll > 0.97 ? 1500 : Math.round(p99 * 2) },
    elu: roll > 0.93 && roll <= 0.95 ? 0.95 : Math.round(next() * 800) / 1000,
    cpu: roll > 0.95 && roll <= 0.97 ? 0.99 : Math.round(next() * 900) / 1000,
    rssMb: 100 + Math.round(next() * 50),
    heapMb: 20 + Math.round(next() * 10),
    connecting: 0,
    connectsStarted: next() < 0.3 ? Math.floor(next() * 500) : 0,
    connectsBehind: next() < 0.05 ? 3 : 0,
  };
}

/**
 * Every interval of `agents` agents over `intervals` intervals, as agents
 * report them (each start the previous end), with gaps (an interval never
 * reported), saturated intervals and a short last interval.
 */
function fleetIntervals(next: () => number, agents: number, intervals: number): Map<number, AgentIntervalHealth[]> {
  const lists = new Map<number, AgentIntervalHealth[]>();
  for (let agent = 0; agent < agents; agent += 1) {
    const list: AgentIntervalHealth[] = [];
    let startMs = 1_000_000 + agent * 7;
    for (let index = 0; index < intervals; index += 1) {
      const endMs = index === intervals - 1 ? startMs + Math.floor(next() * 400) : startMs + 990 + Math.floor(next() * 20);
      if (next() > 0.08) list.push({ agent, index, startMs, endMs, ...healthOf(next) });
      startMs = endMs;
    }
    lists.set(agent, list);
  }
  return lists;
}

function fleetOf(lists: ReadonlyMap<number, readonly AgentIntervalHealth[]>): FleetHealth {
  const fleet = new FleetHealth(lists.keys());
  // As the merger adds them: agents interleaved, each in its own order.
  const longest = Math.max(...[...lists.values()].map((list) => list.length));
  for (let position = 0; position < longest; position += 1) for (const list of lists.values()) if (list[position] !== undefined) fleet.add(list[position]!);
  return fleet;
}

// ---------------------------------------------------------------- the list-based code FleetHealth replaced

function referenceLookup(health: ReadonlyMap<number, readonly AgentIntervalHealth[]>, offsetsMs: ReadonlyMap<number, number>): (agent: number, fromMs: number, toMs: number) => boolean {
  return (agent, coordinatorFromMs, coordinatorToMs) => {
    const offset = offsetsMs.get(agent) ?? 0;
    const fromMs = coordinatorFromMs + offset;
    const toMs = coordinatorToMs + offset;
    const list = health.get(agent);
    if (list === undefined || list.length === 0) return true;
    let coveredUntil = fromMs;
    let low = 0;
    let high = list.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (list[middle]!.endMs <= fromMs) low = middle + 1;
      else high = middle;
    }
    for (let index = low; index < list.length; index += 1) {
      const interval = list[index]!;
      if (interval.startMs > toMs) break;
      if (intervalSaturation(interval) !== undefined) return true;
      if (interval.startMs > coveredUntil + 1) return true;
      coveredUntil = Math.max(coveredUntil, interval.endMs);
    }
    return coveredUntil < toMs;
  };
}

function referenceSummary(intervals: readonly AgentIntervalHealth[], lateMsMax: number): unknown {
  let p99Max = 0;
  let max = 0;
  let cpuSum = 0;
  let cpuMax = 0;
  let eluSum = 0;
  let eluMax = 0;
  let rss = 0;
  let heap = 0;
  let saturated = 0;
  for (const health of intervals) {
    p99Max = Math.max(p99Max, health.loopDelayMs.p99);
    max = Math.max(max, health.loopDelayMs.max);
    cpuSum += health.cpu;
    cpuMax = Math.max(cpuMax, health.cpu);
    eluSum += health.elu;
    eluMax = Math.max(eluMax, health.elu);
    rss = Math.max(rss, health.rssMb);
    heap = Math.max(heap, health.heapMb);
    if (intervalSaturation(health) !== undefined) saturated += 1;
  }
  const round3 = (value: number): number => Math.round(value * 1000) / 1000;
  return {
    intervals: intervals.length, saturatedIntervals: saturated, loopDelayMs: { p99Max, max },
    cpu: { mean: intervals.length === 0 ? 0 : round3(cpuSum / intervals.length), max: round3(cpuMax) },
    elu: { mean: intervals.length === 0 ? 0 : round3(eluSum / intervals.length), max: round3(eluMax) },
    rssMbMax: rss, heapMbMax: heap, lateMsMax: Math.round(lateMsMax),
  };
}

function referenceVerdict(health: ReadonlyMap<number, readonly AgentIntervalHealth[]>, lateMs: ReadonlyMap<number, number>): { agents: number[]; intervals: number[]; reasons: string[] } {
  const agents: number[] = [];
  const intervals = new Set<number>();
  const reasons: string[] = [];
  for (const [agent, list] of [...health].sort((a, b) => a[0] - b[0])) {
    let saturated = 0;
    let worst: string | undefined;
    for (const interval of list) {
      const why = intervalSaturation(interval);
      if (why === undefined) continue;
      saturated += 1;
      intervals.add(interval.index);
      worst ??= `${why} in interval ${interval.index}`;
    }
    const late = lateMs.get(agent) ?? 0;
    const overShare = saturated >= saturationThresholds.runIntervals && saturated / list.length >= saturationThresholds.runShare;
    if (overShare || late >= saturationThresholds.lateMs) {
      agents.push(agent);
      const parts = overShare ? [`${saturated} of ${list.length} intervals saturated (first: ${worst ?? '?'})`] : [];
      if (late >= saturationThresholds.lateMs) parts.push(`its reports ran ${(late / 1000).toFixed(1)} s late`);
      reasons.push(`agent ${agent}: ${parts.join('; ')}`);
    }
  }
  for (const agent of lateMs.keys()) if (!health.has(agent) && (lateMs.get(agent) ?? 0) >= saturationThresholds.lateMs && !agents.includes(agent)) agents.push(agent);
  return { agents, intervals: [...intervals].sort((a, b) => a - b), reasons };
}

function referencePeakConnectRate(health: ReadonlyMap<number, readonly AgentIntervalHealth[]>): number {
  const byIndex = new Map<number, { started: number; ms: number }>();
  for (const list of health.values()) {
    for (const interval of list) {
      const entry = byIndex.get(interval.index) ?? { started: 0, ms: interval.endMs - interval.startMs };
      entry.started += interval.connectsStarted;
      entry.ms = Math.max(entry.ms, interval.endMs - interval.startMs);
      byIndex.set(interval.index, entry);
    }
  }
  let peak = 0;
  for (const { started, ms } of byIndex.values()) if (ms >= 200) peak = Math.max(peak, (started * 1000) / ms);
  return Math.round(peak);
}

// ---------------------------------------------------------------- tests

test('the saturation lookup over spans answers as the lookup over every interval did, question for question', () => {
  const next = seededRandom(11);
  let questions = 0;
  let saturatedAnswers = 0;
  for (let round = 0; round < 60; round += 1) {
    const lists = fleetIntervals(next, 1 + Math.floor(next() * 4), 2 + Math.floor(next() * 60));
    const offsets = new Map([...lists.keys()].map((agent) => [agent, Math.round((next() - 0.5) * 4000) / 4]));
    const fleet = fleetOf(lists);
    const reference = referenceLookup(lists, offsets);
    const fromSpans = saturationLookup(fleet, offsets);
    const fromLists = saturationLookup(lists, offsets);
    const edges = [...lists.values()].flat().flatMap((interval) => [interval.startMs, interval.endMs]);
    for (let question = 0; question < 400; question += 1) {
      const agent = Math.floor(next() * (lists.size + 1));
      // Near interval edges (±1 ms, ±0.5 ms) as often as anywhere.
      const pick = (): number => (next() < 0.5 && edges.length > 0 ? edges[Math.floor(next() * edges.length)]! + [-1.5, -1, -0.5, 0, 0.5, 1, 1.5][Math.floor(next() * 7)]! - (offsets.get(agent) ?? 0) : 999_000 + next() * 70_000);
      const a = pick();
      const b = next() < 0.1 ? a : pick();
      const [fromMs, toMs] = a <= b ? [a, b] : [b, a];
      const expected = reference(agent, fromMs, toMs);
      assert.equal(fromSpans(agent, fromMs, toMs), expected, `round ${round}: agent ${agent} [${fromMs}, ${toMs}]`);
      assert.equal(fromLists(agent, fromMs, toMs), expected, `round ${round} (lists): agent ${agent} [${fromMs}, ${toMs}]`);
      questions += 1;
      if (expected) saturatedAnswers += 1;
    }
  }
  assert.ok(saturatedAnswers > questions / 5 && saturatedAnswers < questions * 0.9, `${saturatedAnswers} of ${questions} saturated`);
});

test('verdict, per-agent summaries and the peak connect rate from the bounded record equal those from every interval', () => {
  const next = seededRandom(12);
  for (let round = 0; round < 80; round += 1) {
    const lists = fleetIntervals(next, 1 + Math.floor(next() * 6), 1 + Math.floor(next() * 40));
    const lateMs = new Map<number, number>([[0, next() < 0.2 ? 2500 : 0], [99, next() < 0.5 ? 3000 : 0]]);
    const fleet = fleetOf(lists);
    const reference = referenceVerdict(lists, lateMs);
    for (const verdict of [judgeGenerator(fleet, lateMs), judgeGenerator(lists, lateMs)]) {
      assert.deepEqual(verdict.agents, reference.agents, `round ${round}`);
      assert.deepEqual(verdict.intervals, reference.intervals, `round ${round}`);
      if (verdict.saturated && reference.reasons.length > 0) assert.ok(verdict.reason.includes(reference.reasons.join('; ')), `round ${round}: ${verdict.reason}`);
    }
    for (const [agent, list] of lists) {
      const expected = referenceSummary(list, lateMs.get(agent) ?? 0);
      assert.deepEqual(summarizeAgentHealth(fleet.get(agent)!, lateMs.get(agent) ?? 0), expected, `round ${round} agent ${agent}`);
      assert.deepEqual(summarizeAgentHealth(list, lateMs.get(agent) ?? 0), expected, `round ${round} agent ${agent} (list)`);
    }
    assert.equal(fleet.peakConnectRate(), referencePeakConnectRate(lists), `round ${round}`);
  }
});

test('a calm agent costs one span however long the run; a saturated stretch one more', () => {
  const fleet = new FleetHealth([0, 1]);
  for (let index = 0; index < 36_000; index += 1) {
    const startMs = index * 1000;
    fleet.add({ agent: 0, index, startMs, endMs: startMs + 1000, ...calm });
    const busy = index >= 100 && index < 110;
    fleet.add({ agent: 1, index, startMs, endMs: startMs + 1000, ...calm, loopDelayMs: { p50: 1, p99: busy ? 120 : 4, max: 9 } });
  }
  assert.equal(fleet.get(0)!.spans.length, 1);
  assert.deepEqual(fleet.get(1)!.spans, [
    { startMs: 0, endMs: 100_000, saturated: false },
    { startMs: 100_000, endMs: 110_000, saturated: true },
    { startMs: 110_000, endMs: 36_000_000, saturated: false },
  ]);
  assert.deepEqual(fleet.saturatedIntervals(), Array.from({ length: 10 }, (_, offset) => 100 + offset));
  assert.equal(fleet.get(1)!.intervals, 36_000);
  assert.deepEqual(fleet.get(1)!.firstSaturation, { index: 100, why: 'load-loop delay p99 120 ms > 50 ms' });
});

test('merged intervals keep every agent\'s health row in small fleets; in large ones the saturated agents\' and the worst by each measure', () => {
  const rowsOf = (agents: number, busy: ReadonlySet<number>): number[] => {
    const rows = new HealthRows(agents);
    for (let agent = agents - 1; agent >= 0; agent -= 1) {
      const health: AgentIntervalHealth = {
        agent, index: 3, startMs: 3000, endMs: 4000, ...calm,
        loopDelayMs: { p50: 1, p99: busy.has(agent) ? 90 : agent === 7 ? 30 : 4, max: 9 }, cpu: agent === 20 ? 0.9 : 0.3, elu: agent === 2 || agent === 5 ? 0.85 : 0.3,
      };
      rows.add(health, intervalSaturation(health) !== undefined);
    }
    return rows.rows().map((row) => row.agent);
  };
  assert.deepEqual(rowsOf(HealthRows.everyAgentUpTo, new Set([3])), Array.from({ length: HealthRows.everyAgentUpTo }, (_, agent) => agent));
  // 500 agents: 11 and 400 saturated (and the worst by loop delay), 20 the worst by CPU, 2 by loop use (a tie with 5: the lower id wins).
  assert.deepEqual(rowsOf(500, new Set([11, 400])), [2, 11, 20, 400]);
  assert.deepEqual(rowsOf(500, new Set()), [2, 7, 20]);
});

test('a 500-agent merge keeps its timeline\'s health rows bounded and its verdict exact', () => {
  const agents = 500;
  const merger = new RunMerger(Array.from({ length: agents }, (_, id) => id));
  const { counters, histograms } = new Recorder().takeInterval(0, 0);
  for (let index = 0; index < 20; index += 1) {
    for (let agentId = 0; agentId < agents; agentId += 1) {
      const busy = agentId === 42 && index >= 5;
      const message: IntervalMessage = {
        type: 'interval', agentId, index, startMs: index * 1000, endMs: (index + 1) * 1000, counters, histograms,
        health: { ...calm, loopDelayMs: { p50: 1, p99: busy ? 200 : 4 + (agentId % 10), max: 20 }, cpu: agentId === 9 ? 0.8 : 0.3 },
      };
      merger.add(message);
    }
  }
  const timeline = merger.timeline();
  assert.equal(timeline.length, 20);
  for (const entry of timeline) {
    assert.equal(entry.agents, agents);
    assert.ok(entry.health.length <= 4, `interval ${entry.index}: ${entry.health.length} rows`);
    assert.equal(entry.health.some((row) => row.agent === 42), entry.index >= 5, `interval ${entry.index}`);
  }
  const verdict = judgeGenerator(merger.fleetHealth, new Map());
  assert.deepEqual(verdict.agents, [42]);
  assert.deepEqual(verdict.intervals, Array.from({ length: 15 }, (_, offset) => 5 + offset));
  assert.equal(merger.fleetHealth.get(42)!.spans.length, 2);
});
