import { AgentHealthTrack, type HealthSpan } from './agent-health-track.js';
import { FleetHealth } from './fleet-health.js';
import { intervalSaturation, saturationThresholds, type AgentIntervalHealth } from './saturation.js';

/** The interval rule moved to saturation.ts; its names stay importable from here. */
export { intervalSaturation, saturationOf, saturationThresholds, type AgentIntervalHealth } from './saturation.js';

/**
 * Health as the coordinator keeps it (FleetHealth, bounded), or every
 * interval of every agent (agent id → its intervals in report order), as
 * tests and older callers pass it: the functions below take either.
 */
export type FleetHealthInput = FleetHealth | ReadonlyMap<number, readonly AgentIntervalHealth[]>;

function fleetOf(health: FleetHealthInput): FleetHealth {
  return health instanceof FleetHealth ? health : FleetHealth.of(health);
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
  /**
   * What to do about a saturated run, one sentence: `saturationFix` (more
   * agents, less load per agent), or, when the host's other processes took
   * the CPU the saturated agents needed, `hostStarvedFix`. Absent when not
   * saturated, and in results older than this field.
   */
  readonly fix?: string | undefined;
  /** The thresholds this verdict used. */
  readonly thresholds: typeof saturationThresholds;
}

/** The fix for a saturated run, in one sentence; the same everywhere spear blames itself. */
export const saturationFix = 'use more agents (--agents N, or agents on more hosts), fewer users or connections per agent, or a lower rate';

/** The fix when the load host's other processes took the CPU the agents needed. */
export const hostStarvedFix = 'give spear the load host\'s CPUs: other processes (the target, other tools, other agents) kept its cores busy while spear got less than it needed, so more agents on this host would make it worse; run the target or the other work elsewhere, pin them apart (taskset), or add load hosts';

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

/** Summarizes one agent's health (its track, or its intervals); `lateMsMax` from the coordinator's heartbeat watch. */
export function summarizeAgentHealth(health: AgentHealthTrack | readonly AgentIntervalHealth[], lateMsMax: number): AgentHealthSummary {
  const track = health instanceof AgentHealthTrack ? health : trackOf(health);
  const intervals = track.intervals;
  const mean = (sum: number): number => (intervals === 0 ? 0 : round3(sum / intervals));
  return {
    intervals,
    saturatedIntervals: track.saturatedIntervals,
    loopDelayMs: track.loopDelayMs,
    cpu: { mean: mean(track.cpu.sum), max: round3(track.cpu.max) },
    elu: { mean: mean(track.elu.sum), max: round3(track.elu.max) },
    rssMbMax: track.rssMbMax,
    heapMbMax: track.heapMbMax,
    lateMsMax: Math.round(lateMsMax),
  };
}

function trackOf(intervals: readonly AgentIntervalHealth[]): AgentHealthTrack {
  const track = new AgentHealthTrack();
  for (const health of intervals) track.add(health);
  return track;
}

/**
 * Judges the generator from every agent's health and the coordinator's
 * late observations (agent id → longest lateness, ms). Pure. An agent is
 * saturated when it was saturated in at least `runShare` of its intervals,
 * or was seen late (heartbeats but no reports) for `lateMs` or more; the
 * run is saturated when any agent is.
 */
export function judgeGenerator(health: FleetHealthInput, lateMs: ReadonlyMap<number, number>): GeneratorVerdict {
  const fleet = fleetOf(health);
  const agents: number[] = [];
  const reasons: string[] = [];
  for (const agent of fleet.agents()) {
    const track = fleet.get(agent)!;
    const saturated = track.saturatedIntervals;
    const first = track.firstSaturation;
    const late = lateMs.get(agent) ?? 0;
    const overShare = saturated >= saturationThresholds.runIntervals && saturated / track.intervals >= saturationThresholds.runShare;
    if (overShare || late >= saturationThresholds.lateMs) {
      agents.push(agent);
      const parts = overShare ? [`${saturated} of ${track.intervals} intervals saturated (first: ${first === undefined ? '?' : `${first.why} in interval ${first.index}`})`] : [];
      if (late >= saturationThresholds.lateMs) parts.push(`its reports ran ${(late / 1000).toFixed(1)} s late`);
      reasons.push(`agent ${agent}: ${parts.join('; ')}`);
    }
  }
  for (const agent of lateMs.keys()) if (!fleet.has(agent) && (lateMs.get(agent) ?? 0) >= saturationThresholds.lateMs && !agents.includes(agent)) agents.push(agent);
  const saturated = agents.length > 0;
  // Starved when every saturated agent was short of CPU because of the host's other work in at least half its saturated intervals.
  const starved = saturated && agents.every((agent) => {
    const track = fleet.get(agent);
    return track !== undefined && track.saturatedIntervals > 0 && track.starvedIntervals * 2 >= track.saturatedIntervals;
  });
  const fix = starved ? hostStarvedFix : saturationFix;
  const reason = saturated
    ? `spear was a bottleneck: ${reasons.join('; ') || `agents ${agents.join(', ')} ran late`}. Latency and errors in those intervals include spear's own queueing; ${fix}`
    : `no agent crossed its limits (load-loop delay p99 ≤ ${saturationThresholds.loopDelayP99Ms} ms, no stall ≥ ${saturationThresholds.loopStallMs / 1000} s, load loop busy < ${saturationThresholds.elu * 100}% and CPU < ${saturationThresholds.cpu * 100}% of a core in more than ${100 - saturationThresholds.runShare * 100}% of intervals, interval 0 judged by stalls and loop use only)`;
  return { saturated, agents, intervals: fleet.saturatedIntervals(), reason, ...(saturated ? { fix } : {}), thresholds: saturationThresholds };
}

/**
 * Whether an agent was saturated at any moment of [fromMs, toMs] (wall
 * clock, epoch ms): what a copy's loss may be blamed on. An agent with no
 * health data for part of the span counts as saturated there (its load
 * thread was too busy to report).
 */
export type SaturationLookup = (agent: number, fromMs: number, toMs: number) => boolean;

/**
 * Builds the lookup from the agents' health: the spans of their tracks
 * (FleetHealth), or every interval of every agent (read as they are when
 * the lookup is called; both give the same answers). Interval spans are in
 * each agent's own clock, spans asked about in the coordinator's:
 * `offsetsMs` (agent minus coordinator, ms) moves one onto the other.
 * Expects fromMs ≤ toMs. O(log n) per question.
 */
export function saturationLookup(health: FleetHealthInput, offsetsMs: ReadonlyMap<number, number> = new Map()): SaturationLookup {
  const spansOf = health instanceof FleetHealth ? (agent: number) => health.get(agent)?.spans : undefined;
  return (agent, coordinatorFromMs, coordinatorToMs) => {
    const offset = offsetsMs.get(agent) ?? 0;
    const fromMs = coordinatorFromMs + offset;
    const toMs = coordinatorToMs + offset;
    if (spansOf !== undefined) return saturatedDuring(spansOf(agent) ?? [], spanSaturated, fromMs, toMs);
    return saturatedDuring((health as ReadonlyMap<number, readonly AgentIntervalHealth[]>).get(agent) ?? [], intervalSaturated, fromMs, toMs);
  };
}

const spanSaturated = (span: HealthSpan): boolean => span.saturated;
const intervalSaturated = (interval: AgentIntervalHealth): boolean => intervalSaturation(interval) !== undefined;

/**
 * Whether [fromMs, toMs] touches a saturated stretch of `list` (in time
 * order) or a stretch it does not cover (before, between or after its entries).
 */
function saturatedDuring<T extends { readonly startMs: number; readonly endMs: number }>(list: readonly T[], saturated: (entry: T) => boolean, fromMs: number, toMs: number): boolean {
  if (list.length === 0) return true;
  let coveredUntil = fromMs;
  for (let index = firstEndingAfter(list, fromMs); index < list.length; index += 1) {
    const entry = list[index]!;
    if (entry.startMs > toMs) break;
    if (saturated(entry)) return true;
    if (entry.startMs > coveredUntil + 1) return true;
    coveredUntil = Math.max(coveredUntil, entry.endMs);
  }
  return coveredUntil < toMs;
}

/** Index of the first entry (in time order) that ends after `atMs`. */
function firstEndingAfter(list: readonly { readonly endMs: number }[], atMs: number): number {
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
