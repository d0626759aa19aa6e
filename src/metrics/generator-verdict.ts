import type { AgentHealth } from '../wire/messages.js';

/**
 * When an agent's own interval counts as saturated, and when a run does.
 * Chosen from measurements on 2-core machines (docs/result-format.md,
 * "Reading summary.generator"): a calm agent's load loop shows p99 delays
 * of 1–15 ms and well under one core; an agent that cannot keep up shows
 * p99 delays of 100 ms to seconds, or one full core.
 */
export const saturationThresholds = {
  /** An interval whose load-loop delay p99 exceeds this is saturated. */
  loopDelayP99Ms: 50,
  /** An interval in which the load loop stalled this long at once is saturated (a late timer, a burst of connects). */
  loopStallMs: 1000,
  /**
   * An interval whose load-loop utilization (share of time not waiting for
   * I/O) reaches this is saturated. Measured: a closed-model agent that was
   * the limit against nginx (nginx at 75%) ran at ELU 0.91 with loop delays
   * of only 8–12 ms (a closed loop throttles itself), so 0.95 missed it.
   */
  elu: 0.9,
  /** A ramp interval with users due but not started and the load loop this busy is saturated: spear held the ramp back. */
  rampElu: 0.8,
  /** An interval whose CPU share (1 = one core) reaches this is saturated. */
  cpu: 0.95,
  /** Intervals shorter than this (the run's last, partial one) are too short to judge. */
  minIntervalMs: 200,
  /** A run is saturated when any agent was saturated in at least this share of its intervals ... */
  runShare: 0.1,
  /** ... and in at least this many of them (one noisy interval of a short run is not a verdict). */
  runIntervals: 2,
  /** A heartbeat-observed stall of the load thread this long marks the agent late, and its intervals then saturated. */
  lateMs: 2000,
} as const;

/** One agent's health over one interval, as the coordinator keeps it. */
export interface AgentIntervalHealth extends AgentHealth {
  readonly agent: number;
  readonly index: number;
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * Why one interval of one agent is saturated, or undefined when it is not.
 * `durationMs` (when known) lets a too-short interval pass unjudged: a few
 * milliseconds of work make any utilization look full.
 */
export function saturationOf(health: AgentHealth, durationMs = Number.POSITIVE_INFINITY, warmUp = false): string | undefined {
  const limits = saturationThresholds;
  if (health.loopDelayMs.max >= limits.loopStallMs) return `load loop stalled ${(health.loopDelayMs.max / 1000).toFixed(1)} s at once (≥ ${limits.loopStallMs / 1000} s)`;
  if (durationMs < limits.minIntervalMs) return undefined;
  if (health.connectsBehind > 0 && health.elu >= limits.rampElu) {
    return `ramp behind: ${health.connectsBehind} users due but not started, load loop busy ${(health.elu * 100).toFixed(0)}% (≥ ${limits.rampElu * 100}%)`;
  }
  // The first interval opens every connection and compiles the hot path: a few 50–80 ms turns
  // there are start-up, measured on calm runs; only a stall, a loop that never idles or a ramp held back counts.
  if (!warmUp && health.loopDelayMs.p99 > limits.loopDelayP99Ms) return `load-loop delay p99 ${health.loopDelayMs.p99.toFixed(0)} ms > ${limits.loopDelayP99Ms} ms`;
  if (health.elu >= limits.elu) return `load loop busy ${(health.elu * 100).toFixed(0)}% of the time (≥ ${limits.elu * 100}%)`;
  if (warmUp) return undefined;
  if (health.cpu >= limits.cpu) return `CPU ${(health.cpu * 100).toFixed(0)}% of a core (≥ ${limits.cpu * 100}%)`;
  return undefined;
}

/** `saturationOf` for an interval that knows its own span and place (interval 0 is the warm-up). */
export function intervalSaturation(health: AgentIntervalHealth): string | undefined {
  return saturationOf(health, health.endMs - health.startMs, health.index === 0);
}

/** spear's verdict on itself: was any agent the bottleneck? Always present in a result. */
export interface GeneratorVerdict {
  readonly saturated: boolean;
  /** Agents saturated for at least `runShare` of their intervals (or late), ascending ids. */
  readonly agents: readonly number[];
  /** Interval indexes in which any agent was saturated, ascending. */
  readonly intervals: readonly number[];
  /** One sentence: what crossed which threshold where, and the fix; or why the generator was fine. */
  readonly reason: string;
  /** The thresholds this verdict used. */
  readonly thresholds: typeof saturationThresholds;
}

/** Run-wide health of one agent, for `agents[].health`. */
export interface AgentHealthSummary {
  readonly intervals: number;
  readonly saturatedIntervals: number;
  readonly loopDelayMs: { readonly p99Max: number; readonly max: number };
  readonly cpu: { readonly mean: number; readonly max: number };
  /** Load-loop utilization over the run's intervals (the deciding signal when the host's cores are shared). */
  readonly elu: { readonly mean: number; readonly max: number };
  readonly rssMbMax: number;
  readonly heapMbMax: number;
  /** Longest time the coordinator heard heartbeats but no interval report from this agent, ms. */
  readonly lateMsMax: number;
}

/** Summarizes one agent's intervals; `lateMsMax` from the coordinator's heartbeat watch. */
export function summarizeAgentHealth(intervals: readonly AgentIntervalHealth[], lateMsMax: number): AgentHealthSummary {
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
  return {
    intervals: intervals.length,
    saturatedIntervals: saturated,
    loopDelayMs: { p99Max, max },
    cpu: { mean: intervals.length === 0 ? 0 : round3(cpuSum / intervals.length), max: round3(cpuMax) },
    elu: { mean: intervals.length === 0 ? 0 : round3(eluSum / intervals.length), max: round3(eluMax) },
    rssMbMax: rss,
    heapMbMax: heap,
    lateMsMax: Math.round(lateMsMax),
  };
}

/**
 * Judges the generator from every agent's per-interval health and the
 * coordinator's late observations (agent id → longest lateness, ms).
 * Pure. An agent is saturated when it was saturated in at least `runShare`
 * of its intervals, or was seen late (heartbeats but no reports) for
 * `lateMs` or more; the run is saturated when any agent is.
 */
export function judgeGenerator(health: ReadonlyMap<number, readonly AgentIntervalHealth[]>, lateMs: ReadonlyMap<number, number>): GeneratorVerdict {
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
  const saturated = agents.length > 0;
  const reason = saturated
    ? `spear was a bottleneck: ${reasons.join('; ') || `agents ${agents.join(', ')} ran late`}. Latency and errors in those intervals include spear's own queueing; use more agents (--agents N, more hosts), fewer users or connections per agent, or a lower rate`
    : `no agent crossed its limits (load-loop delay p99 ≤ ${saturationThresholds.loopDelayP99Ms} ms, no stall ≥ ${saturationThresholds.loopStallMs / 1000} s, load loop busy < ${saturationThresholds.elu * 100}% and CPU < ${saturationThresholds.cpu * 100}% of a core in more than ${100 - saturationThresholds.runShare * 100}% of intervals, interval 0 judged by stalls and loop use only)`;
  return { saturated, agents, intervals: [...intervals].sort((a, b) => a - b), reason, thresholds: saturationThresholds };
}

/**
 * Whether an agent was saturated at any moment of [fromMs, toMs] (wall
 * clock, epoch ms): what a copy's loss may be blamed on. An agent with no
 * health data for part of the span counts as saturated there (its load
 * thread was too busy to report).
 */
export type SaturationLookup = (agent: number, fromMs: number, toMs: number) => boolean;

/**
 * Builds the lookup from per-agent interval health. Interval spans are in
 * each agent's own clock, spans asked about in the coordinator's: `offsetsMs`
 * (agent minus coordinator, ms) moves one onto the other.
 */
export function saturationLookup(health: ReadonlyMap<number, readonly AgentIntervalHealth[]>, offsetsMs: ReadonlyMap<number, number> = new Map()): SaturationLookup {
  return (agent, coordinatorFromMs, coordinatorToMs) => {
    const offset = offsetsMs.get(agent) ?? 0;
    const fromMs = coordinatorFromMs + offset;
    const toMs = coordinatorToMs + offset;
    const list = health.get(agent);
    if (list === undefined || list.length === 0) return true;
    let coveredUntil = fromMs;
    for (let index = firstEndingAfter(list, fromMs); index < list.length; index += 1) {
      const interval = list[index]!;
      if (interval.startMs > toMs) break;
      if (intervalSaturation(interval) !== undefined) return true;
      if (interval.startMs > coveredUntil + 1) return true;
      coveredUntil = Math.max(coveredUntil, interval.endMs);
    }
    return coveredUntil < toMs;
  };
}

/** Index of the first interval (in time order) that ends after `atMs`. */
function firstEndingAfter(list: readonly AgentIntervalHealth[], atMs: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (list[middle]!.endMs <= atMs) low = middle + 1;
    else high = middle;
  }
  return low;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
