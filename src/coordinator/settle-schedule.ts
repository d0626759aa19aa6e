import type { SaturationLookup } from '../metrics/generator-verdict.js';
import { BroadcastCoverage } from './broadcast-coverage.js';

/** What the ledger needs to settle broadcasts while the run goes on. */
export interface SettleOptions {
  /** Every agent of the run: a broadcast settles once each of them has reported past its window, or has ended. */
  readonly agents: readonly number[];
  /** broadcast.timeout, ms. */
  readonly timeoutMs: number;
  /** The agents' report interval, ms. */
  readonly intervalMs: number;
  /**
   * The saturation lookup over the agents' interval health received so far
   * (the merger's), called once per settling pass. It must already know the
   * health of every interval an agent has declared `covered`.
   */
  readonly saturated: () => SaturationLookup;
  /**
   * Settled broadcasts short of copies are kept (see Shortfalls) for very
   * late copies this long after they were settled (default 10 minutes) ...
   */
  readonly shortfallKeepMs?: number | undefined;
  /** ... and at most this many of them (default 100,000). */
  readonly shortfallLimit?: number | undefined;
}

/**
 * How long after a broadcast's window (send + broadcast.timeout) it stays
 * open for late copies before it is settled: max(30 s, 10 × timeout) plus
 * two report intervals. Far above any clock offset between an agent and
 * the coordinator, which is why coverage (in agents' clocks) needs no
 * correction.
 */
export function lateHorizonMs(timeoutMs: number, intervalMs: number): number {
  return Math.max(30_000, 10 * timeoutMs) + 2 * intervalMs;
}

/**
 * When broadcasts may be settled: how far every agent of the run has
 * reported (the end of its last interval, in its own clock), which agents
 * ended, and each sender's reported sends in order. O(agents) plus one
 * number per send not yet settled; a report costs O(log agents).
 * Single-threaded.
 */
export class SettleSchedule {
  readonly #members: ReadonlySet<number>;
  readonly #coverage: BroadcastCoverage;
  readonly #finished = new Set<number>();
  readonly #sends = new Map<number, SeqQueue>();
  #reachedMs = Number.NEGATIVE_INFINITY;

  constructor(agents: readonly number[]) {
    this.#members = new Set(agents);
    this.#coverage = new BroadcastCoverage(agents);
  }

  /** Whether `agentId` may still report sends: an agent of this run that has not ended. */
  reporting(agentId: number): boolean {
    return this.#members.has(agentId) && !this.#finished.has(agentId);
  }

  /** `agentId` reported up to `endMs`; returns the least coverage over running agents when that moved on, else undefined. */
  cover(agentId: number, endMs: number): number | undefined {
    return this.#coverage.raise(agentId, endMs) ? this.#advance() : undefined;
  }

  /** `agentId` ended: nothing waits for it any more. Returns as `cover` does. */
  finish(agentId: number): number | undefined {
    this.#finished.add(agentId);
    return this.#coverage.remove(agentId) ? this.#advance() : undefined;
  }

  /** Send `seq` of `agentId` was reported (in send order, per sender). */
  queue(agentId: number, seq: number): void {
    let queue = this.#sends.get(agentId);
    if (queue === undefined) this.#sends.set(agentId, (queue = new SeqQueue()));
    queue.push(seq);
  }

  /**
   * Hands each sender's queued sends, oldest first, to `settle`, dropping
   * those it takes (returns true); a sender's first refused send keeps it
   * and every later one of that sender queued.
   */
  drain(settle: (agentId: number, seq: number) => boolean): void {
    for (const [agentId, queue] of this.#sends) {
      for (let seq = queue.peek(); seq !== undefined && settle(agentId, seq); seq = queue.peek()) queue.shift();
    }
  }

  /** The least coverage over running agents if it moved on and is finite (some agent still runs, each has reported). */
  #advance(): number | undefined {
    const least = this.#coverage.least;
    if (least <= this.#reachedMs || least === Number.POSITIVE_INFINITY) return undefined;
    this.#reachedMs = least;
    return least;
  }
}

/** A FIFO of one sender's seqs: push at the tail, read and drop at the head, amortized O(1). */
class SeqQueue {
  #seqs: number[] = [];
  #head = 0;

  push(seq: number): void {
    this.#seqs.push(seq);
  }

  peek(): number | undefined {
    return this.#seqs[this.#head];
  }

  shift(): void {
    this.#head += 1;
    if (this.#head >= 1024 && this.#head * 2 >= this.#seqs.length) {
      this.#seqs = this.#seqs.slice(this.#head);
      this.#head = 0;
    }
  }
}
