import { UsageError } from '../errors.js';

/**
 * Longest interleaving period (the sum of the reduced user weights) a run
 * may have: each agent keeps three 32-bit tables of this length (12 MB at
 * the bound) and sorts them once at start.
 */
export const maxUserWeightPeriod = 1_000_000;

/**
 * Which agent runs which virtual user of a long-connection run (ws,
 * socketio, HTTP journeys), and as which of its local users (its slot).
 *
 * Agent a of weight u_a holds, per period of W = Σu global indices, u_a of
 * them: its k-th user sits at the virtual time k / u_a, and global indices
 * follow virtual time (ties go to the lower agent id). So every agent's
 * share of the first n users stays within about one user of n·u_a/W at
 * every n: each agent ramps in step with the global ramp, and consecutive
 * users (a group) spread over the agents. Each period starts with one user
 * of every agent, so any run with at least as many users as agents gives
 * every agent one. Equal weights give exactly user i on agent i mod N, slot
 * ⌊i / N⌋.
 *
 * Pure and immutable; methods are O(1) or O(log u_a) and allocate nothing.
 * Build one with `UserAssignment.of` (or `assignmentOf(plan)`), which
 * reuses the tables of weights it has seen.
 */
export class UserAssignment {
  readonly agentCount: number;
  /** Reduced integer weights; undefined when every agent weighs the same. */
  readonly #units: readonly number[] | undefined;
  readonly #period: number;
  /** Per position of a period: the agent there, and which of that agent's positions it is. */
  readonly #agentAt: Int32Array | undefined;
  readonly #rankAt: Int32Array | undefined;
  /** Agent a's positions within a period, ascending: #positions[#firstOf[a] … #firstOf[a] + u_a). */
  readonly #positions: Int32Array | undefined;
  readonly #firstOf: Int32Array | undefined;

  private constructor(agentCount: number, units: readonly number[] | undefined) {
    this.agentCount = agentCount;
    this.#units = units;
    if (units === undefined) {
      this.#period = agentCount;
      return;
    }
    const period = units.reduce((sum, unit) => sum + unit, 0);
    this.#period = period;
    const agentOf = new Int32Array(period);
    const rankOf = new Int32Array(period);
    const time = new Float64Array(period);
    let entry = 0;
    units.forEach((unit, agent) => {
      for (let rank = 0; rank < unit; rank += 1, entry += 1) {
        agentOf[entry] = agent;
        rankOf[entry] = rank;
        // Equal fractions divide to the same double; different ones (apart by ≥ 1/W² ≥ 1e-12) never do.
        time[entry] = rank / unit;
      }
    });
    const order = Array.from({ length: period }, (_, index) => index);
    order.sort((x, y) => time[x]! - time[y]! || agentOf[x]! - agentOf[y]!);
    this.#agentAt = new Int32Array(period);
    this.#rankAt = new Int32Array(period);
    this.#firstOf = new Int32Array(agentCount);
    for (let agent = 1; agent < agentCount; agent += 1) this.#firstOf[agent] = this.#firstOf[agent - 1]! + units[agent - 1]!;
    this.#positions = new Int32Array(period);
    order.forEach((source, position) => {
      const agent = agentOf[source]!;
      this.#agentAt![position] = agent;
      this.#rankAt![position] = rankOf[source]!;
      this.#positions![this.#firstOf![agent]! + rankOf[source]!] = position;
    });
  }

  /**
   * The assignment for `agentCount` agents of `units` (reduced integer
   * weights, see `userWeightUnits`; undefined: equal). Tables are built once
   * per `units` array and reused. Throws a UsageError when `units` does not
   * fit (length, values, period).
   */
  static of(agentCount: number, units?: readonly number[]): UserAssignment {
    if (units === undefined) {
      let equal = equalOf.get(agentCount);
      if (equal === undefined) equalOf.set(agentCount, (equal = new UserAssignment(agentCount, undefined)));
      return equal;
    }
    const known = built.get(units);
    if (known !== undefined && known.agentCount === agentCount) return known;
    if (units.length !== agentCount || !units.every((unit) => Number.isInteger(unit) && unit >= 1)) {
      throw new UsageError(`user weights: expected ${agentCount} whole numbers of at least 1, got ${units.length}`);
    }
    if (units.reduce((sum, unit) => sum + unit, 0) > maxUserWeightPeriod) {
      throw new UsageError(`user weights ${units.join(', ')}: they add up to more than ${maxUserWeightPeriod}; give smaller whole-number weights (e.g. *3 and *1)`);
    }
    const assignment = new UserAssignment(agentCount, units);
    built.set(units, assignment);
    return assignment;
  }

  /** Global indices per period: after this many users, every agent has had exactly its weight's worth. */
  get period(): number {
    return this.#period;
  }

  /** Agent `agent`'s weight in users per period (1 with equal weights). */
  unitsOf(agent: number): number {
    return this.#units?.[agent] ?? 1;
  }

  /** How many of the global users 0 … users − 1 agent `agent` runs. */
  usersOf(agent: number, users: number): number {
    if (users <= 0) return 0;
    const period = this.#period;
    const whole = Math.floor(users / period);
    const rest = users - whole * period;
    if (this.#positions === undefined) return whole + (agent < rest ? 1 : 0);
    const first = this.#firstOf![agent]!;
    const unit = this.#units![agent]!;
    // Agent positions below `rest` within the last, partial period (binary search: they ascend).
    let low = 0;
    let high = unit;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.#positions[first + middle]! < rest) low = middle + 1;
      else high = middle;
    }
    return whole * unit + low;
  }

  /** The global index of agent `agent`'s local user `slot` (0 = its first). */
  indexOf(agent: number, slot: number): number {
    if (this.#positions === undefined) return agent + slot * this.agentCount;
    const unit = this.#units![agent]!;
    const whole = Math.floor(slot / unit);
    return whole * this.#period + this.#positions[this.#firstOf![agent]! + (slot - whole * unit)]!;
  }

  /** The agent that runs global user `index`. */
  agentOf(index: number): number {
    const position = index % this.#period;
    return this.#agentAt === undefined ? position : this.#agentAt[position]!;
  }

  /** Global user `index`'s slot among its agent's users. */
  slotOf(index: number): number {
    const whole = Math.floor(index / this.#period);
    if (this.#rankAt === undefined) return whole;
    const position = index - whole * this.#period;
    return whole * this.#units![this.#agentAt![position]!]! + this.#rankAt[position]!;
  }
}

/** Tables already built, by the units array they were built for (a plan's, kept for the run). */
const built = new WeakMap<readonly number[], UserAssignment>();
/** Equal-weight assignments (no tables), by agent count: a process sees one or two. */
const equalOf = new Map<number, UserAssignment>();

/** The assignment a session plan describes. */
export function assignmentOf(plan: { readonly agentCount: number; readonly userWeights?: readonly number[] | undefined }): UserAssignment {
  return UserAssignment.of(plan.agentCount, plan.userWeights);
}

/**
 * Agent weights (`--agent HOST:PORT*W`, any numbers above 0) as the whole
 * numbers users are interleaved by: relative to the lightest, to a
 * hundredth of it, reduced by their greatest common divisor (1.5 and 1 →
 * 3 and 2). Undefined when all are equal: the plan then carries no weights
 * and users go round-robin. Throws a UsageError when the reduced weights
 * add up past `maxUserWeightPeriod` (a ratio past ~10,000 to 1).
 */
export function userWeightUnits(weights: readonly number[]): number[] | undefined {
  const lightest = Math.min(...weights);
  if (weights.every((weight) => weight === lightest)) return undefined;
  const scaled = weights.map((weight) => Math.max(1, Math.round((weight / lightest) * 100)));
  const divisor = scaled.reduce(greatestCommonDivisor);
  const units = scaled.map((unit) => unit / divisor);
  if (units.every((unit) => unit === units[0])) return undefined;
  if (units.reduce((sum, unit) => sum + unit, 0) > maxUserWeightPeriod) {
    throw new UsageError(`agent weights ${weights.join(', ')}: users cannot be interleaved at that ratio (the reduced weights add up past ${maxUserWeightPeriod}); give whole-number weights such as *3 and *1`);
  }
  return units;
}

/** Integer shares of `total` in proportion to `weights` (largest remainder, ties to the first). */
export function weightedShares(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((weight) => (total * weight) / sum);
  const shares = exact.map(Math.floor);
  let left = total - shares.reduce((a, b) => a + b, 0);
  const order = exact.map((value, index) => [value - Math.floor(value), index] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, index] of order) {
    if (left === 0) break;
    shares[index]! += 1;
    left -= 1;
  }
  return shares;
}

/** gcd of two non-negative integers (Euclid). */
export function greatestCommonDivisor(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}
