import type { BroadcastReceipt } from '../wire/messages.js';
import type { BroadcastTally } from './broadcast-tally.js';

/** A settled broadcast that was short of copies: all the ledger keeps of it. */
interface Shortfall {
  readonly group: number;
  readonly sentUs: number;
  firstUs: number;
  lastUs: number;
  /**
   * Pairs (receiving agent slot, copies still missing there), for the
   * agents that missed some: positive when they were counted lost,
   * negative when unverified (one agent's copies of one broadcast are all
   * one or the other: one window's health). Usually one or two agents.
   */
  readonly missing: number[];
}

/**
 * Settled broadcasts that still missed copies, kept compact (a group, three
 * times and a count per receiving agent that missed some: a few hundred
 * bytes, whatever the run's agents) so that a copy arriving long after its
 * window (a saturated agent reading its backlog, the end-of-run drain)
 * moves its count from lost or unverified to delivered/late exactly. They
 * are let go some time after settling, and the oldest beyond `limit`: a
 * copy of one of those still counts as late, but no longer fills its
 * missing count. First/last-member times of a kept broadcast go into the
 * tally when it is let go (or at summary). Single-threaded.
 */
export class Shortfalls {
  readonly #records = new Map<number, Shortfall>();
  readonly #tally: BroadcastTally;
  readonly #limit: number;

  constructor(tally: BroadcastTally, limit: number) {
    this.#tally = tally;
    this.#limit = limit;
  }

  get size(): number {
    return this.#records.size;
  }

  /** Keeps a settled broadcast's missing copies (signed pairs, see Shortfall.missing; kept as given); lets the oldest go beyond the limit. */
  keep(key: number, group: number, times: { sentUs: number; firstUs: number; lastUs: number }, missing: number[]): void {
    this.#records.set(key, { group, sentUs: times.sentUs, firstUs: times.firstUs, lastUs: times.lastUs, missing });
    while (this.#records.size > this.#limit && this.#letGoOldest(Number.POSITIVE_INFINITY));
  }

  /** Lets go of the kept broadcasts sent before `sentUs` (oldest settled first). */
  letGoBefore(sentUs: number): void {
    while (this.#letGoOldest(sentUs));
  }

  /**
   * Books a receipt from the agent in `slot` for broadcast `key`; false
   * when that broadcast is not kept here. Its first copies fill that
   * agent's missing ones first (max(0, expected − received) per agent,
   * as if the broadcast had never been settled).
   */
  receive(key: number, slot: number, receipt: BroadcastReceipt): boolean {
    const record = this.#records.get(key);
    if (record === undefined) return false;
    const firstCopies = receipt[2] + receipt[3];
    const at = pairOf(record.missing, slot);
    const still = at < 0 ? 0 : record.missing[at + 1]!;
    const found = Math.min(firstCopies, Math.abs(still));
    if (found > 0) record.missing[at + 1] = still > 0 ? still - found : still + found;
    this.#tally.addAfterSettling(record.group, receipt, { lost: still > 0 ? found : 0, unverified: still < 0 ? found : 0 });
    const [, , , , , , , , firstUs, lastUs] = receipt;
    if (firstUs > 0 && (record.firstUs === 0 || firstUs < record.firstUs)) record.firstUs = firstUs;
    if (lastUs > record.lastUs) record.lastUs = lastUs;
    return true;
  }

  /** Lets go of the oldest kept broadcast if it was sent before `sentUs`; false when none was. */
  #letGoOldest(sentUs: number): boolean {
    const oldest = this.#records.entries().next();
    if (oldest.done === true || oldest.value[1].sentUs >= sentUs) return false;
    const [key, record] = oldest.value;
    this.#tally.addTimes(record.sentUs, record.firstUs, record.lastUs);
    this.#records.delete(key);
    return true;
  }

  /** Records every kept broadcast's first/last-member times into `tally` (a summary's copy). */
  addTimesTo(tally: BroadcastTally): void {
    for (const record of this.#records.values()) tally.addTimes(record.sentUs, record.firstUs, record.lastUs);
  }
}

/** Index of `slot`'s pair in `pairs` ([slot, count, slot, count, …]), −1 when absent. */
function pairOf(pairs: readonly number[], slot: number): number {
  for (let at = 0; at < pairs.length; at += 2) if (pairs[at] === slot) return at;
  return -1;
}
