const none = -1;
/** The largest window; a seq further from the oldest open one goes to the map. */
const maxWindow = 1 << 16;

/**
 * One sender agent's open broadcasts, by seq: record indices of
 * OpenBroadcasts. A sender numbers its sends 0, 1, 2, …, so the ones open
 * at any moment (about a minute of them) sit in a window: a ring over
 * seqs [base, base + size), which slides over closed seqs and doubles when
 * an old record holds it back (up to 65,536). A seq outside the window, or
 * not a whole non-negative number (only a misbehaving agent sends those),
 * goes to a map. Finding, opening and closing cost O(1) and hash nothing.
 * Single-threaded.
 */
export class SenderBroadcasts {
  /** The highest seq whose send was reported; −1 before any. */
  lastSent = -1;
  #ring = new Int32Array(64).fill(none);
  #base = 0;
  #far: Map<number, number> | undefined;

  /** The record of `seq`, −1 when it is not open. */
  find(seq: number): number {
    if (this.#inWindow(seq)) {
      const record = this.#ring[seq & (this.#ring.length - 1)]!;
      if (record !== none || this.#far === undefined) return record;
    }
    return this.#far?.get(seq) ?? none;
  }

  /** Files `record` under `seq` (not open). */
  open(seq: number, record: number): void {
    if (Number.isInteger(seq) && seq >= this.#base && seq - this.#base < maxWindow) {
      if (!this.#inWindow(seq)) this.#make(seq);
      if (this.#inWindow(seq)) {
        this.#ring[seq & (this.#ring.length - 1)] = record;
        return;
      }
    }
    (this.#far ??= new Map()).set(seq, record);
  }

  /** Forgets `record`, filed under `seq`. */
  close(seq: number, record: number): void {
    const at = seq & (this.#ring.length - 1);
    if (this.#inWindow(seq) && this.#ring[at] === record) this.#ring[at] = none;
    else this.#far?.delete(seq);
  }

  /** Calls `each` with every open record of this sender. */
  forEach(each: (record: number) => void): void {
    const mask = this.#ring.length - 1;
    for (let seq = this.#base; seq < this.#base + this.#ring.length; seq += 1) {
      const record = this.#ring[seq & mask]!;
      if (record !== none) each(record);
    }
    if (this.#far !== undefined) for (const record of [...this.#far.values()]) each(record);
  }

  #inWindow(seq: number): boolean {
    return Number.isInteger(seq) && seq >= this.#base && seq < this.#base + this.#ring.length;
  }

  /** Slides the window over closed seqs, then doubles it, until `seq` fits or it is as large as allowed. */
  #make(seq: number): void {
    const ring = this.#ring;
    while (seq >= this.#base + ring.length && ring[this.#base & (ring.length - 1)] === none) this.#base += 1;
    let size = ring.length;
    while (seq >= this.#base + size && size < maxWindow) size *= 2;
    if (size === ring.length) return;
    const grown = new Int32Array(size).fill(none);
    for (let at = this.#base; at < this.#base + ring.length; at += 1) grown[at & (size - 1)] = ring[at & (ring.length - 1)]!;
    this.#ring = grown;
  }
}
