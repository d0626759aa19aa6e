import type { AgentIntervalHealth } from './saturation.js';

/**
 * The agents' health rows one merged interval keeps (`timeline[].health`
 * in the result). A small fleet keeps every agent's row. A larger one
 * keeps, per interval, the rows of the agents saturated in it (the live
 * view's "SPEAR BUSY", the warning's first saturated interval) and the
 * worst agent's row by load-loop delay p99, by CPU and by loop use (the
 * HTML report's "worst agent" lines), so that the timeline grows with the
 * run, not with agents × intervals. The verdict and `agents[].health` do
 * not read these rows (FleetHealth keeps what they need).
 */
export class HealthRows {
  /** Fleets up to this many agents keep every agent's row (the HTML report draws up to 8 agents apart). */
  static readonly everyAgentUpTo = 16;
  readonly #every: boolean;
  readonly #rows: AgentIntervalHealth[] = [];
  #worstLoop: AgentIntervalHealth | undefined;
  #worstCpu: AgentIntervalHealth | undefined;
  #worstElu: AgentIntervalHealth | undefined;

  constructor(fleetSize: number) {
    this.#every = fleetSize <= HealthRows.everyAgentUpTo;
  }

  /** One agent's row for this interval; `saturated` by the interval rule. O(1). */
  add(health: AgentIntervalHealth, saturated: boolean): void {
    if (this.#every || saturated) this.#rows.push(health);
    if (this.#every) return;
    if (worse(health, this.#worstLoop, loopP99)) this.#worstLoop = health;
    if (worse(health, this.#worstCpu, cpu)) this.#worstCpu = health;
    if (worse(health, this.#worstElu, elu)) this.#worstElu = health;
  }

  /** The rows kept, by agent id. */
  rows(): AgentIntervalHealth[] {
    const rows = new Set(this.#rows);
    for (const worst of [this.#worstLoop, this.#worstCpu, this.#worstElu]) if (worst !== undefined) rows.add(worst);
    return [...rows].sort((a, b) => a.agent - b.agent);
  }
}

const loopP99 = (health: AgentIntervalHealth): number => health.loopDelayMs.p99;
const cpu = (health: AgentIntervalHealth): number => health.cpu;
const elu = (health: AgentIntervalHealth): number => health.elu;

/** Whether `health` is worse than `than` by `measure` (ties: the lower agent id). */
function worse(health: AgentIntervalHealth, than: AgentIntervalHealth | undefined, measure: (health: AgentIntervalHealth) => number): boolean {
  if (than === undefined) return true;
  const a = measure(health);
  const b = measure(than);
  return a > b || (a === b && health.agent < than.agent);
}
