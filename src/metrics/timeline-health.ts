import { HealthRows } from './health-rows.js';
import { intervalSaturation, type AgentIntervalHealth } from './saturation.js';

/** One interval's agent health as the result keeps it. */
export interface IntervalHealth {
  /** The rows kept (see TimelineHealth), by agent id. */
  readonly rows: AgentIntervalHealth[];
  /** Agents saturated in the interval (the interval rule), counted before any row is left out. */
  readonly saturatedAgents: number;
}

/** The measures whose worst agent each interval keeps: what the HTML report draws per interval. */
const worstBy: readonly ((row: AgentIntervalHealth) => number)[] = [(row) => row.loopDelayMs.p99, (row) => row.cpu, (row) => row.elu];

/**
 * Which agents' health rows the result's timeline keeps (`timeline[].health`).
 * A fleet of up to HealthRows.everyAgentUpTo agents keeps every row, as the
 * merger does. A larger one keeps, per interval, the worst agent by
 * load-loop delay p99, by CPU and by loop use (the HTML report's "worst
 * agent" lines), and an agent's row only in its first saturated interval
 * (the warning's "first: …"): at most 3 rows per interval plus 1 per agent,
 * so the file grows with intervals, not agents × intervals, even when the
 * whole fleet is saturated for hours. The merger keeps every saturated
 * agent's row per interval until the interval closes (the live view shows
 * them all), then keeps only these; the verdict and `agents[].health` come
 * from FleetHealth, never from these rows. Memory and file then grow with
 * intervals, never with agents × intervals.
 *
 * Stateful: feed intervals in index order, one instance per result.
 */
export class TimelineHealth {
  readonly #every: boolean;
  /** Agents whose first saturated interval was kept already. */
  readonly #named = new Set<number>();

  constructor(agentCount: number) {
    this.#every = agentCount <= HealthRows.everyAgentUpTo;
  }

  /** The rows to keep of one merged interval's rows (every saturated agent's among them), and how many agents were saturated. O(rows). */
  take(rows: readonly AgentIntervalHealth[]): IntervalHealth {
    const saturated = rows.filter((row) => intervalSaturation(row) !== undefined);
    if (this.#every) return { rows: [...rows], saturatedAgents: saturated.length };
    const kept = new Set<AgentIntervalHealth>();
    for (const measure of worstBy) {
      const row = worst(rows, measure);
      if (row !== undefined) kept.add(row);
    }
    for (const row of saturated) {
      if (this.#named.has(row.agent)) continue;
      this.#named.add(row.agent);
      kept.add(row);
    }
    return { rows: [...kept].sort((a, b) => a.agent - b.agent), saturatedAgents: saturated.length };
  }
}

/** The row with the highest `measure` (ties: the lowest agent id, as HealthRows picks), or undefined for no rows. */
function worst(rows: readonly AgentIntervalHealth[], measure: (row: AgentIntervalHealth) => number): AgentIntervalHealth | undefined {
  let found: AgentIntervalHealth | undefined;
  for (const row of rows) {
    if (found === undefined || measure(row) > measure(found) || (measure(row) === measure(found) && row.agent < found.agent)) found = row;
  }
  return found;
}
