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
  /** A saturated interval with the host's cores at least this busy (all processes) ... */
  hostBusy: 0.9,
  /** ... while the agent itself used less than this share of a core was host-starved: other processes took the CPU. */
  starvedCpu: 0.6,
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

/**
 * `saturationOf` for an interval that knows its own span and place
 * (interval 0 is the warm-up); a host-starved interval says so.
 */
export function intervalSaturation(health: AgentIntervalHealth): string | undefined {
  const why = saturationOf(health, health.endMs - health.startMs, health.index === 0);
  if (why === undefined || !hostStarved(health)) return why;
  return `${why}, while it used only ${(health.cpu * 100).toFixed(0)}% of a core and the host's CPUs were ${((health.hostCpu ?? 0) * 100).toFixed(0)}% busy: other processes took the CPU`;
}

/**
 * Whether an interval's agent was short of CPU because the host's cores
 * were busy with other work (the target, other tools, other agents): the
 * host at least `hostBusy` busy while the agent used under `starvedCpu` of
 * a core. More agents on that host would make it worse, not better.
 */
export function hostStarved(health: AgentHealth): boolean {
  return health.hostCpu !== undefined && health.hostCpu >= saturationThresholds.hostBusy && health.cpu < saturationThresholds.starvedCpu;
}
