import { AgentHealthTrack } from './agent-health-track.js';
import { intervalSaturation, type AgentIntervalHealth } from './saturation.js';

/** Intervals shorter than this give no connect rate: a short last interval would magnify a handful of reconnects. */
const minRateIntervalMs = 200;

/**
 * Every agent's health as the coordinator keeps it over a run: one bounded
 * AgentHealthTrack per planned agent, the intervals in which any agent was
 * saturated, and per interval the fleet's connection attempts. Memory grows
 * with the run only by a few numbers per interval and by changes of state,
 * never by agents × intervals. Single-threaded; `add` is O(1).
 */
export class FleetHealth {
  readonly #tracks = new Map<number, AgentHealthTrack>();
  readonly #saturatedIntervals = new Set<number>();
  readonly #connects = new Map<number, { started: number; ms: number }>();

  constructor(agentIds: Iterable<number>) {
    for (const id of agentIds) this.#tracks.set(id, new AgentHealthTrack());
  }

  /** The same record built from every interval of every agent (agent id → its intervals in report order). */
  static of(intervals: ReadonlyMap<number, readonly AgentIntervalHealth[]>): FleetHealth {
    const fleet = new FleetHealth(intervals.keys());
    for (const [agent, list] of intervals) for (const health of list) fleet.#add(agent, health);
    return fleet;
  }

  /** Adds one agent's interval health (agents not planned are not kept); returns why it was saturated, if it was. */
  add(health: AgentIntervalHealth): string | undefined {
    return this.#add(health.agent, health);
  }

  #add(agent: number, health: AgentIntervalHealth): string | undefined {
    const track = this.#tracks.get(agent);
    if (track === undefined) return intervalSaturation(health);
    const why = track.add(health);
    if (why !== undefined) this.#saturatedIntervals.add(health.index);
    const ms = health.endMs - health.startMs;
    const connects = this.#connects.get(health.index);
    if (connects === undefined) this.#connects.set(health.index, { started: health.connectsStarted, ms });
    else {
      connects.started += health.connectsStarted;
      connects.ms = Math.max(connects.ms, ms);
    }
    return why;
  }

  get(agent: number): AgentHealthTrack | undefined {
    return this.#tracks.get(agent);
  }

  has(agent: number): boolean {
    return this.#tracks.has(agent);
  }

  /** Agent ids, ascending. */
  agents(): number[] {
    return [...this.#tracks.keys()].sort((a, b) => a - b);
  }

  /** Interval indexes in which any agent was saturated, ascending. */
  saturatedIntervals(): number[] {
    return [...this.#saturatedIntervals].sort((a, b) => a - b);
  }

  /** The most connection attempts all agents started in one interval (of 200 ms or more), per second, rounded. */
  peakConnectRate(): number {
    let peak = 0;
    for (const { started, ms } of this.#connects.values()) if (ms >= minRateIntervalMs) peak = Math.max(peak, (started * 1000) / ms);
    return Math.round(peak);
  }
}
