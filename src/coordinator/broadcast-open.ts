import { receiptColumn as column, type ReceiptRows } from '../wire/receipt-rows.js';
import { SenderBroadcasts } from './broadcast-sender.js';
import type { BookedBroadcast } from './broadcast-tally.js';

/** Numbers kept per open broadcast, at these offsets of its row. */
const group = 0;
const sentUs = 1;
const delivered = 2;
const late = 3;
const duplicated = 4;
const outOfOrder = 5;
const nonMember = 6;
const unexpected = 7;
const firstUs = 8;
const lastUs = 9;
const stride = 10;

/**
 * The broadcasts the ledger books one by one until they are settled, found
 * by sender agent and seq (SenderBroadcasts): per broadcast a record index
 * (reused once closed) and one row of ten numbers (group, send time, the
 * six delivery counts, first and last copy times) plus its sender's id,
 * seq and agent slot, in typed arrays: about 110 bytes a broadcast, no
 * object and no map entry per broadcast. The copies per receiving agent
 * are ReceivedCopies', by the same index. `find` and `book` allocate
 * nothing, `open` only when a pool grows. Single-threaded.
 */
export class OpenBroadcasts {
  readonly #senders = new Map<number, SenderBroadcasts>();
  #rows = new Float64Array(1024 * stride);
  /** Per record: its sender agent's id and its seq. */
  #names = new Float64Array(1024 * 2);
  #senderSlots = new Int32Array(1024);
  readonly #free: number[] = [];
  #top = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The record of `agent`'s broadcast `seq`, −1 when it is not open. */
  find(agent: number, seq: number): number {
    return this.#senders.get(agent)?.find(seq) ?? -1;
  }

  /** The highest seq of `agent` whose send was reported; −1 before any. */
  lastSent(agent: number): number {
    return this.#senders.get(agent)?.lastSent ?? -1;
  }

  /** Opens a record for `agent`'s broadcast `seq` (not open): no send reported, no copies. */
  open(agent: number, seq: number): number {
    let record = this.#free.pop();
    if (record === undefined) {
      if (this.#top === this.#senderSlots.length) this.#grow();
      record = this.#top;
      this.#top += 1;
    }
    const row = record * stride;
    this.#rows.fill(0, row, row + stride);
    this.#rows[row + group] = -1;
    this.#rows[row + sentUs] = -1;
    this.#senderSlots[record] = -1;
    this.#names[record * 2] = agent;
    this.#names[record * 2 + 1] = seq;
    this.#sender(agent).open(seq, record);
    this.#size += 1;
    return record;
  }

  /** Forgets `record`; its index may be given to the next broadcast opened. */
  close(record: number): void {
    this.#senders.get(this.#names[record * 2]!)!.close(this.#names[record * 2 + 1]!, record);
    this.#free.push(record);
    this.#size -= 1;
  }

  /** Calls `each` with every open record (each sender's in seq order). */
  forEach(each: (record: number) => void): void {
    for (const sender of this.#senders.values()) sender.forEach(each);
  }

  /** Calls `each` with every open record of `agent` whose send is not reported. */
  forEachUnsent(agent: number, each: (record: number) => void): void {
    this.#senders.get(agent)?.forEach((record) => {
      if (this.#senderSlots[record]! < 0) each(record);
    });
  }

  /** The send of `record` (seq `seq` of `agent`): its group, its sender's agent slot and its send time (coordinator clock, µs). */
  send(record: number, sentGroup: number, senderSlot: number, sentAtUs: number): void {
    this.#rows[record * stride + group] = sentGroup;
    this.#rows[record * stride + sentUs] = sentAtUs;
    this.#senderSlots[record] = senderSlot;
    const sender = this.#sender(this.#names[record * 2]!);
    sender.lastSent = Math.max(this.#names[record * 2 + 1]!, sender.lastSent);
  }

  /** Adds the delivery counts and first/last copy times of receipt row `index` of `receipts` to `record`. */
  book(record: number, receipts: ReceiptRows, index: number): void {
    const rows = this.#rows;
    const row = record * stride;
    const { numbers, count } = receipts;
    rows[row + delivered] = rows[row + delivered]! + numbers[column.delivered * count + index]!;
    rows[row + late] = rows[row + late]! + numbers[column.late * count + index]!;
    rows[row + duplicated] = rows[row + duplicated]! + numbers[column.duplicated * count + index]!;
    rows[row + outOfOrder] = rows[row + outOfOrder]! + numbers[column.outOfOrder * count + index]!;
    rows[row + nonMember] = rows[row + nonMember]! + numbers[column.nonMember * count + index]!;
    rows[row + unexpected] = rows[row + unexpected]! + numbers[column.unexpected * count + index]!;
    const first = numbers[column.firstUs * count + index]!;
    const last = numbers[column.lastUs * count + index]!;
    if (first > 0 && (rows[row + firstUs] === 0 || first < rows[row + firstUs]!)) rows[row + firstUs] = first;
    if (last > rows[row + lastUs]!) rows[row + lastUs] = last;
  }

  /** `record`'s group, −1 until its send is reported. */
  group(record: number): number {
    return this.#rows[record * stride + group]!;
  }

  /** `record`'s send time (µs), −1 until its send is reported. */
  sentUs(record: number): number {
    return this.#rows[record * stride + sentUs]!;
  }

  /** `record`'s sender's agent slot, −1 until its send is reported. */
  senderSlot(record: number): number {
    return this.#senderSlots[record]!;
  }

  /** Copies `record` into `into` (a reused view, so that settling allocates nothing) and returns it. */
  view(record: number, into: BookedBroadcast): BookedBroadcast {
    const rows = this.#rows;
    const row = record * stride;
    into.group = rows[row + group]!;
    into.sentUs = rows[row + sentUs]!;
    into.delivered = rows[row + delivered]!;
    into.late = rows[row + late]!;
    into.duplicated = rows[row + duplicated]!;
    into.outOfOrder = rows[row + outOfOrder]!;
    into.nonMember = rows[row + nonMember]!;
    into.unexpected = rows[row + unexpected]!;
    into.firstUs = rows[row + firstUs]!;
    into.lastUs = rows[row + lastUs]!;
    return into;
  }

  #sender(agent: number): SenderBroadcasts {
    let sender = this.#senders.get(agent);
    if (sender === undefined) this.#senders.set(agent, (sender = new SenderBroadcasts()));
    return sender;
  }

  #grow(): void {
    const length = this.#senderSlots.length * 2;
    const rows = new Float64Array(length * stride);
    rows.set(this.#rows);
    this.#rows = rows;
    const names = new Float64Array(length * 2);
    names.set(this.#names);
    this.#names = names;
    const senderSlots = new Int32Array(length);
    senderSlots.set(this.#senderSlots);
    this.#senderSlots = senderSlots;
  }
}
