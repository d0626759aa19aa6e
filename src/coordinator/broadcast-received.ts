import type { BroadcastGroup } from './broadcast-groups.js';

/** A cell holds at most this many copies; the rest go to the record's pairs. */
const cellMax = 0xffff;
const none = -1;
/** Per record, at these offsets of its three numbers: its first cell, its cell count (0: not attached), its first pair. */
const cellAt = 0;
const width = 1;
const chain = 2;
const stride = 3;

/**
 * First copies (delivered + late) of each open broadcast per receiving
 * agent, which settling compares with the members expected there. Records
 * are the open-broadcast indices of OpenBroadcasts. A record whose send is
 * reported gets one 16-bit cell per agent that has members of its group
 * (the group's slot order, fixed when the cells are attached); every other
 * copy goes to the record's chain of (agent slot, count) pairs: copies
 * booked before the send was reported (the group was unknown), from an
 * agent that joined the group after the cells were sized, past a cell's
 * 65,535, or not a whole non-negative number. An agent's copies are its
 * cell plus its pairs. Memory follows the open broadcasts times their
 * groups' agents, never the run's agents. Cells and pairs come from pools
 * that only grow (to the run's high-water mark): booking in steady state
 * allocates nothing. Single-threaded; nothing here blocks.
 */
export class ReceivedCopies {
  /** Per record, side by side (one cache line): see cellAt, width, chain. */
  #records = emptyRecords(1024);
  /** Per record with cells, the group they are laid out for. */
  readonly #groups: (BroadcastGroup | undefined)[] = [];
  #cells = new Uint16Array(1 << 16);
  #cellTop = 0;
  /** Free cell blocks by size class: their offsets. */
  readonly #freeBlocks = new Map<number, number[]>();
  #pairSlot = new Int32Array(1024);
  #pairCount = new Float64Array(1024);
  #pairNext = new Int32Array(1024);
  #pairTop = 0;
  #freePair = none;

  /** The group `record`'s cells are laid out for; undefined when it has none. */
  groupOf(record: number): BroadcastGroup | undefined {
    return this.#groups[record];
  }

  /** Books `copies` first copies of `record` at agent `slot`. Allocates nothing. */
  add(record: number, slot: number, copies: number): void {
    this.#place(record, slot, this.#groups[record]?.localOf(slot) ?? -1, copies);
  }

  /** Books copies at agent `slot`, whose index in the record's group is `local` (−1: not a member). */
  #place(record: number, slot: number, local: number, copies: number): void {
    this.#ensureRecord(record);
    const records = this.#records;
    if (local >= 0 && local < records[record * stride + width]! && Number.isInteger(copies) && copies >= 0) {
      const at = records[record * stride + cellAt]! + local;
      const sum = this.#cells[at]! + copies;
      if (sum <= cellMax) {
        this.#cells[at] = sum;
        return;
      }
      this.#cells[at] = cellMax;
      this.#push(record, slot, sum - cellMax);
      return;
    }
    this.#push(record, slot, copies);
  }

  /** Gives `record` a cell per agent of `group` and moves its pairs for those agents into them. */
  attach(record: number, group: BroadcastGroup): void {
    this.#ensureRecord(record);
    const cells = group.width;
    const at = record * stride;
    if (cells === 0 || this.#records[at + width]! > 0) return;
    const block = this.#takeBlock(cells);
    this.#records[at + cellAt] = block;
    this.#records[at + width] = cells;
    this.#groups[record] = group;
    let pair = this.#records[at + chain]!;
    this.#records[at + chain] = none;
    while (pair !== none) {
      const next = this.#pairNext[pair]!;
      const slot = this.#pairSlot[pair]!;
      const count = this.#pairCount[pair]!;
      this.#freePairAt(pair);
      this.#place(record, slot, group.localOf(slot), count);
      pair = next;
    }
  }

  /** Moves `record`'s cells back into pairs: its group changed. */
  detach(record: number): void {
    const group = this.#groups[record];
    if (group === undefined) return;
    const cells = this.#records[record * stride + width]!;
    const block = this.#records[record * stride + cellAt]!;
    for (let local = 0; local < cells; local += 1) {
      const count = this.#cells[block + local]!;
      if (count > 0) this.#push(record, group.slots[local]!, count);
    }
    this.#giveBlock(block, cells);
    this.#records[record * stride + cellAt] = none;
    this.#records[record * stride + width] = 0;
    this.#groups[record] = undefined;
  }

  /** First copies in `record`'s cell for the agent at `local` in its group (0 when it has none). */
  cell(record: number, local: number): number {
    const at = record * stride;
    return local < (this.#records[at + width] ?? 0) ? this.#cells[this.#records[at + cellAt]! + local]! : 0;
  }

  /**
   * Adds `record`'s pairs into `bySlot` (indexed by agent slot, zeros
   * where it has no pair) and appends each pair's slot to `slots` (an
   * agent may appear more than once).
   */
  scatter(record: number, bySlot: Float64Array, slots: number[]): void {
    for (let pair = this.#records[record * stride + chain] ?? none; pair !== none; pair = this.#pairNext[pair]!) {
      const slot = this.#pairSlot[pair]!;
      bySlot[slot] = bySlot[slot]! + this.#pairCount[pair]!;
      slots.push(slot);
    }
  }

  /** Returns `record`'s cells and pairs to the pools: the record is closed. */
  release(record: number): void {
    const at = record * stride;
    if (at >= this.#records.length) return;
    const cells = this.#records[at + width]!;
    if (cells > 0) this.#giveBlock(this.#records[at + cellAt]!, cells);
    this.#records[at + cellAt] = none;
    this.#records[at + width] = 0;
    this.#groups[record] = undefined;
    let pair = this.#records[at + chain]!;
    this.#records[at + chain] = none;
    while (pair !== none) {
      const next = this.#pairNext[pair]!;
      this.#freePairAt(pair);
      pair = next;
    }
  }

  #push(record: number, slot: number, count: number): void {
    let pair = this.#freePair;
    if (pair !== none) {
      this.#freePair = this.#pairNext[pair]!;
    } else {
      if (this.#pairTop === this.#pairSlot.length) this.#growPairs();
      pair = this.#pairTop;
      this.#pairTop += 1;
    }
    this.#pairSlot[pair] = slot;
    this.#pairCount[pair] = count;
    this.#pairNext[pair] = this.#records[record * stride + chain]!;
    this.#records[record * stride + chain] = pair;
  }

  #freePairAt(pair: number): void {
    this.#pairNext[pair] = this.#freePair;
    this.#freePair = pair;
  }

  /** A zeroed block of at least `cells` cells, from the free blocks of its size class when there is one. */
  #takeBlock(cells: number): number {
    const size = blockSize(cells);
    const at = this.#freeBlocks.get(size)?.pop();
    if (at !== undefined) {
      this.#cells.fill(0, at, at + cells);
      return at;
    }
    if (this.#cellTop + size > this.#cells.length) {
      const cells = new Uint16Array(Math.max(this.#cells.length * 2, this.#cellTop + size));
      cells.set(this.#cells);
      this.#cells = cells;
    }
    const top = this.#cellTop;
    this.#cellTop += size;
    return top;
  }

  #giveBlock(at: number, cells: number): void {
    const size = blockSize(cells);
    let free = this.#freeBlocks.get(size);
    if (free === undefined) this.#freeBlocks.set(size, (free = []));
    free.push(at);
  }

  #ensureRecord(record: number): void {
    if (record * stride < this.#records.length) return;
    const records = emptyRecords(Math.max((this.#records.length / stride) * 2, record + 1));
    records.set(this.#records);
    this.#records = records;
  }

  #growPairs(): void {
    const length = this.#pairSlot.length * 2;
    this.#pairSlot = grown(this.#pairSlot, length, 0);
    this.#pairNext = grown(this.#pairNext, length, none);
    const counts = new Float64Array(length);
    counts.set(this.#pairCount);
    this.#pairCount = counts;
  }
}

/**
 * Cells given for `cells`: exact up to 16, then rounded up to a quarter of
 * the power of two below (at most 25% spare), so blocks of groups that grew
 * by a member or two are reused.
 */
function blockSize(cells: number): number {
  if (cells <= 16) return cells;
  const step = 2 ** (Math.floor(Math.log2(cells)) - 2);
  return Math.ceil(cells / step) * step;
}

/** Per-record numbers for `count` records, none attached, no pairs. */
function emptyRecords(count: number): Int32Array<ArrayBuffer> {
  const records = new Int32Array(count * stride).fill(none);
  for (let at = width; at < records.length; at += stride) records[at] = 0;
  return records;
}

function grown(array: Int32Array<ArrayBuffer>, length: number, fill: number): Int32Array<ArrayBuffer> {
  const next = new Int32Array(length).fill(fill);
  next.set(array);
  return next;
}
