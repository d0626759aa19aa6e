import { hostStarved, intervalSaturation, type AgentIntervalHealth } from './saturation.js';

/**
 * A stretch of an agent's reported time (its own clock, epoch ms) whose
 * intervals were all saturated or all not. Consecutive intervals in the
 * same state are one span, so a calm agent has one span however long the run.
 */
export interface HealthSpan {
  readonly startMs: number;
  readonly endMs: number;
  readonly saturated: boolean;
}

interface OpenSpan {
  readonly startMs: number;
  endMs: number;
  readonly saturated: boolean;
}

/** The first saturated interval of an agent, and why. */
export interface FirstSaturation {
  readonly index: number;
  readonly why: string;
}

/**
 * What the coordinator keeps of one agent's health over a run: running
 * sums and extrema (for `agents[].health`), its saturated-interval count
 * and the first one's cause (the verdict), and its time as spans (the
 * broadcast loss lookup). Bounded: it grows only when the agent's state
 * changes (calm to saturated, or a gap in its reports), never per interval.
 * `add` is O(1); single-threaded.
 */
export class AgentHealthTrack {
  #intervals = 0;
  #saturated = 0;
  #loopP99Max = 0;
  #loopMax = 0;
  #cpuSum = 0;
  #cpuMax = 0;
  #eluSum = 0;
  #eluMax = 0;
  #rssMax = 0;
  #heapMax = 0;
  #first: FirstSaturation | undefined;
  #starved = 0;
  readonly #spans: OpenSpan[] = [];

  /** Adds one interval's health, in the order the agent reported them; returns why it was saturated, if it was. */
  add(health: AgentIntervalHealth): string | undefined {
    const why = intervalSaturation(health);
    this.#intervals += 1;
    this.#loopP99Max = Math.max(this.#loopP99Max, health.loopDelayMs.p99);
    this.#loopMax = Math.max(this.#loopMax, health.loopDelayMs.max);
    this.#cpuSum += health.cpu;
    this.#cpuMax = Math.max(this.#cpuMax, health.cpu);
    this.#eluSum += health.elu;
    this.#eluMax = Math.max(this.#eluMax, health.elu);
    this.#rssMax = Math.max(this.#rssMax, health.rssMb);
    this.#heapMax = Math.max(this.#heapMax, health.heapMb);
    if (why !== undefined) {
      this.#saturated += 1;
      if (hostStarved(health)) this.#starved += 1;
      this.#first ??= { index: health.index, why };
    }
    this.#extend(health.startMs, health.endMs, why !== undefined);
    return why;
  }

  get intervals(): number {
    return this.#intervals;
  }

  get saturatedIntervals(): number {
    return this.#saturated;
  }

  /** Saturated intervals in which the host's other processes took the CPU (saturation.ts hostStarved). */
  get starvedIntervals(): number {
    return this.#starved;
  }

  /** The first saturated interval in report order, if any. */
  get firstSaturation(): FirstSaturation | undefined {
    return this.#first;
  }

  /** The agent's reported time, oldest first; starts and ends ascending as agents report them. */
  get spans(): readonly HealthSpan[] {
    return this.#spans;
  }

  get loopDelayMs(): { readonly p99Max: number; readonly max: number } {
    return { p99Max: this.#loopP99Max, max: this.#loopMax };
  }

  /** Sums and maxima of the per-interval CPU and loop use (cores, 0..1). */
  get cpu(): { readonly sum: number; readonly max: number } {
    return { sum: this.#cpuSum, max: this.#cpuMax };
  }

  get elu(): { readonly sum: number; readonly max: number } {
    return { sum: this.#eluSum, max: this.#eluMax };
  }

  get rssMbMax(): number {
    return this.#rssMax;
  }

  get heapMbMax(): number {
    return this.#heapMax;
  }

  /**
   * Subtleness: the span lookup (saturationLookup) answers exactly as it
   * did over every interval only if a span joins intervals that touch or
   * overlap (next start ≤ span end, as agents report: each start is the
   * previous end) with starts and ends ascending. Anything else (a gap, an
   * interval out of order) starts a new span.
   */
  #extend(startMs: number, endMs: number, saturated: boolean): void {
    const last = this.#spans.at(-1);
    if (last !== undefined && last.saturated === saturated && startMs <= last.endMs && startMs >= last.startMs && endMs >= last.endMs) {
      last.endMs = endMs;
      return;
    }
    this.#spans.push({ startMs, endMs, saturated });
  }
}
