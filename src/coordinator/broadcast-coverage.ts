/**
 * How far each agent of a run that still runs has reported (the end of its
 * last interval, in its own clock), and the least of those: an indexed
 * binary min-heap, so an agent's report costs O(log agents) rather than a
 * pass over every agent (which made settling O(agents²) per interval). An
 * agent that has not reported yet stands at −∞. Single-threaded.
 */
export class BroadcastCoverage {
  /** Agent ids in heap order, and each one's coverage at the same position. */
  readonly #agents: number[] = [];
  readonly #ms: number[] = [];
  /** Agent id → its position in the heap (agents that ended are not in it). */
  readonly #position = new Map<number, number>();

  constructor(agents: readonly number[]) {
    for (const agent of agents) {
      if (this.#position.has(agent)) continue;
      this.#position.set(agent, this.#agents.length);
      this.#agents.push(agent);
      this.#ms.push(Number.NEGATIVE_INFINITY);
    }
  }

  /** The least coverage over the agents still running; +∞ when none is. */
  get least(): number {
    return this.#ms[0] ?? Number.POSITIVE_INFINITY;
  }

  /** `agent` reported up to `endMs`; false when it is not running here or `endMs` is no further than before. */
  raise(agent: number, endMs: number): boolean {
    const at = this.#position.get(agent);
    if (at === undefined || endMs <= this.#ms[at]!) return false;
    this.#ms[at] = endMs;
    this.#down(at);
    return true;
  }

  /** `agent` ended: it no longer holds the least back. False when it was not running here. */
  remove(agent: number): boolean {
    const at = this.#position.get(agent);
    if (at === undefined) return false;
    this.#position.delete(agent);
    const lastAgent = this.#agents.pop()!;
    const lastMs = this.#ms.pop()!;
    if (at === this.#agents.length) return true;
    this.#place(at, lastAgent, lastMs);
    this.#up(at);
    this.#down(this.#position.get(lastAgent)!);
    return true;
  }

  #up(from: number): void {
    let at = from;
    const agent = this.#agents[at]!;
    const ms = this.#ms[at]!;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (this.#ms[parent]! <= ms) break;
      this.#place(at, this.#agents[parent]!, this.#ms[parent]!);
      at = parent;
    }
    this.#place(at, agent, ms);
  }

  #down(from: number): void {
    let at = from;
    const agent = this.#agents[at]!;
    const ms = this.#ms[at]!;
    const length = this.#agents.length;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && this.#ms[right]! < this.#ms[left]! ? right : left;
      if (this.#ms[child]! >= ms) break;
      this.#place(at, this.#agents[child]!, this.#ms[child]!);
      at = child;
    }
    this.#place(at, agent, ms);
  }

  #place(at: number, agent: number, ms: number): void {
    this.#agents[at] = agent;
    this.#ms[at] = ms;
    this.#position.set(agent, at);
  }
}
