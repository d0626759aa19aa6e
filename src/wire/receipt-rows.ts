import { WireError } from '../errors.js';
import type { BroadcastReceipt } from './messages.js';

/** Numbers per receipt row: senderAgent, seq, the six delivery counts, firstUs, lastUs, group. */
export const receiptFields = 11;
/** Each field's column in ReceiptRows.numbers (and its index in a BroadcastReceipt): field f of row i is `numbers[f * count + i]`. */
export const receiptColumn = {
  agent: 0, seq: 1, delivered: 2, late: 3, duplicated: 4, outOfOrder: 5, nonMember: 6, unexpected: 7, firstUs: 8, lastUs: 9, group: 10,
} as const;
/** The columns sent as f64 (first on the wire, so they start 8-byte aligned): firstUs, lastUs. */
const timeFields = 2;
/** The columns before the times, sent as u32 after them (the group, last, too). */
const leadingWhole = 8;
const wholeFields = receiptFields - timeFields;
/** Bytes per row on the wire: two f64 and nine u32. */
const rowBytes = timeFields * 8 + wholeFields * 4;
const maxWhole = 0xffff_ffff;

/** Typed arrays use the platform's byte order; the wire is little-endian. */
const bigEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 0;

/**
 * An agent's broadcast receipt rows of one interval (see BroadcastReceipt),
 * as columns: field f of row i is `numbers[f * count + i]`. They are most of
 * a broadcast report's bytes (one row per broadcast an agent got copies of,
 * 500 a second at 500 agents), so on the wire they are one base64 string of
 * the columns in little-endian binary, the two f64 time columns then the
 * nine u32 ones (`toJSON`), not JSON lists: JSON.parse of the lists and the
 * garbage of their boxed µs numbers were most of the coordinator's merge
 * time. Immutable once built; `fromWire` validates every row.
 */
export class ReceiptRows {
  readonly numbers: Float64Array;
  readonly count: number;

  constructor(numbers: Float64Array) {
    if (numbers.length % receiptFields !== 0) throw new RangeError(`receipt rows: ${numbers.length} numbers is not a whole number of rows`);
    this.numbers = numbers;
    this.count = numbers.length / receiptFields;
  }

  /** Rows from tuples (agents building a report, tests). */
  static of(rows: readonly BroadcastReceipt[]): ReceiptRows {
    const count = rows.length;
    const numbers = new Float64Array(count * receiptFields);
    rows.forEach((row, index) => row.forEach((value, field) => (numbers[field * count + index] = value)));
    return new ReceiptRows(numbers);
  }

  /**
   * The rows of a report's `receipts` field. Throws WireError, naming
   * `what`, for anything but padded base64 of whole rows with finite
   * times. Allocates the decoded bytes and one array; no per-row objects.
   */
  static fromWire(value: unknown, what: string): ReceiptRows {
    const size = typeof value === 'string' && value.length % 4 === 0 ? Buffer.byteLength(value, 'base64') : -1;
    if (typeof value !== 'string' || size < 0 || size % rowBytes !== 0) throw new WireError(`${what}: expected base64 of receipt rows, ${rowBytes} bytes each`);
    const count = size / rowBytes;
    const decoded = Buffer.from(value, 'base64');
    // Characters that are not base64 are skipped by the decoder: fewer bytes than the length promised.
    if (decoded.length !== size) throw new WireError(`${what}: not base64`);
    // The views need an 8-byte aligned start (Node's pool is aligned, but that is not promised).
    const bytes = decoded.byteOffset % 8 === 0 ? decoded : Buffer.from(new Uint8Array(decoded).buffer);
    if (bigEndian) swapColumns(bytes, count);
    const times = new Float64Array(bytes.buffer, bytes.byteOffset, count * timeFields);
    for (let index = 0; index < times.length; index += 1) {
      if (!Number.isFinite(times[index])) throw new WireError(`${what}: row ${index % count} has a time that is not a finite number`);
    }
    const whole = new Uint32Array(bytes.buffer, bytes.byteOffset + count * timeFields * 8, count * wholeFields);
    const numbers = new Float64Array(count * receiptFields);
    numbers.set(whole.subarray(0, count * leadingWhole));
    numbers.set(times, count * receiptColumn.firstUs);
    numbers.set(whole.subarray(count * leadingWhole), count * receiptColumn.group);
    return new ReceiptRows(numbers);
  }

  /** Row `index` as a tuple (allocates: for the rare paths and tests). */
  row(index: number): BroadcastReceipt {
    const { numbers, count } = this;
    const field = (at: number): number => numbers[at * count + index]!;
    return [field(0), field(1), field(2), field(3), field(4), field(5), field(6), field(7), field(8), field(9), field(10)];
  }

  /** The wire form: base64 of the columns. Whole fields outside 0 … 2^32−1 are a RangeError (a bug of the agent). */
  toJSON(): string {
    const { numbers, count } = this;
    const bytes = Buffer.alloc(count * rowBytes);
    new Float64Array(bytes.buffer, bytes.byteOffset, count * timeFields).set(numbers.subarray(count * receiptColumn.firstUs, count * (receiptColumn.lastUs + 1)));
    const whole = new Uint32Array(bytes.buffer, bytes.byteOffset + count * timeFields * 8, count * wholeFields);
    for (let at = 0; at < whole.length; at += 1) {
      const field = Math.floor(at / count);
      const value = numbers[(field < leadingWhole ? field : receiptColumn.group) * count + (at % count)]!;
      if (!Number.isInteger(value) || value < 0 || value > maxWhole) throw new RangeError(`receipt row ${at % count}, field ${field < leadingWhole ? field : receiptColumn.group}: ${value} is not a u32`);
      whole[at] = value;
    }
    if (bigEndian) swapColumns(bytes, count);
    return bytes.toString('base64');
  }
}

/** Turns the columns' byte order around, in place (big-endian hosts only). */
function swapColumns(bytes: Buffer, count: number): void {
  bytes.subarray(0, count * timeFields * 8).swap64();
  bytes.subarray(count * timeFields * 8).swap32();
}
