import { inflateSync } from 'node:zlib';
import { Int32Histogram, type Histogram } from 'hdr-histogram-js';
import { WireError, messageOf } from '../errors.js';
import { createHistogram, decodeHistogram, encodeHistogram } from './histogram.js';

interface Walk {
  readonly total: number;
  readonly minIndex: number;
  readonly maxIndex: number;
}

const noCounts: Walk = { total: 0, minIndex: -1, maxIndex: -1 };

/** The layout every spear histogram has; a payload is added directly only into this one. */
const layout = int32Of(createHistogram());
/** What spear's own recorder sends for an interval without values (every idle histogram of every report). */
const emptyEncoding = encodeHistogram(createHistogram());

const compressedCookieBase = 0x1c849304;
const encodingCookieBase = 0x1c849303;
/** cookie, payload length, normalizing offset, digits (int32 each); lowest, highest, ratio (int64 each). */
const headerBytes = 40;
/**
 * A count fits 32 bits, and a run of zeros the counts array: both are at
 * most 5 LEB128 bytes of ZigZag. Longer words are malformed here.
 */
const maxWordBytes = 5;
const maxCount = 0xffffffff;
/** The most an honest spear payload inflates to: the header and one 5-byte word per index. */
const maxInflatedBytes = headerBytes + layout.countsArrayLength * maxWordBytes;
/** The most its compressed form takes (deflate adds at most a few bytes per 16 KB block), with the outer cookie and length. */
const maxEncodedBytes = 8 + maxInflatedBytes + 1024;

/**
 * An encoded HdrHistogram (V2 compressed base64, "HISTF…") from the wire,
 * validated and ready to add into spear-shaped histograms without building
 * a histogram for it. hdr-histogram-js would decode each report into a new
 * 92 KB histogram and scan its 23,552 buckets twice (decode, then add);
 * this inflates the payload and adds its ZigZag LEB128 counts straight into
 * the target's counts array, keeping totalCount, min and max exactly as the
 * library's decode + add would (test/histogram-payload.test.ts holds it to
 * the library).
 *
 * The V2 compressed encoding: int32 cookie (0x1c84930x), int32 length, then
 * that many zlib-deflated bytes holding int32 cookie (0x1c84930x), int32
 * payload length, int32 normalizing index offset, int32 significant digits,
 * int64 lowest discernible value, int64 highest trackable value, int64
 * integer-to-double ratio (all big-endian), then the payload: one ZigZag
 * LEB128 word per counts-array index, a negative word -n standing for n
 * zero counts. As in the library, the offset and the ratio are read and
 * ignored (the Java and JS encoders write different constants there).
 *
 * Reports are untrusted: `parse` validates everything (base64, both
 * cookies, lengths, the inflated size, every word, every index against
 * spear's counts array) and throws WireError before anything is added, so
 * a malformed report can never leave a merge half done. An encoding of
 * another shape (a different lowest value, precision or bucket count) takes
 * the library's path, as before.
 */
export class HistogramPayload {
  /** The inflated bytes and where the counts are in them; undefined for an empty histogram or a foreign one. */
  readonly #bytes: Uint8Array | undefined;
  readonly #start: number;
  readonly #end: number;
  /** Sum of the counts, first non-zero index above 0, last non-zero index (-1: none). */
  readonly totalCount: number;
  readonly #minIndex: number;
  readonly #maxIndex: number;
  /** A histogram of another shape, decoded by the library and re-homed into spear's shape. */
  readonly #foreign: Histogram | undefined;
  /** Adding it changes nothing: what every idle histogram of every report decodes to. */
  static readonly #empty = new HistogramPayload(undefined, 0, 0, noCounts);

  private constructor(bytes: Uint8Array | undefined, start: number, end: number, walk: Walk, foreign?: Histogram) {
    this.#bytes = bytes;
    this.#start = start;
    this.#end = end;
    this.totalCount = foreign?.totalCount ?? walk.total;
    this.#minIndex = walk.minIndex;
    this.#maxIndex = walk.maxIndex;
    this.#foreign = foreign;
  }

  /**
   * Validates an encoded histogram; throws WireError naming `what` when it
   * is malformed. Allocates the inflated bytes (a few KB) and nothing per count.
   */
  static parse(encoded: string, what: string): HistogramPayload {
    if (encoded === emptyEncoding) return HistogramPayload.#empty;
    const inflated = inflateReport(encoded, what);
    const header = readHeader(inflated, what);
    if (!fitsSpearShape(header)) return HistogramPayload.#foreignShape(encoded, what);
    const start = headerBytes;
    const end = headerBytes + header.payloadLength;
    return new HistogramPayload(inflated, start, end, walkCounts(inflated, start, end, undefined, what));
  }

  /**
   * Adds these counts into `target` (a histogram from createHistogram):
   * exactly what `target.add(decodeHistogram(encoded))` does, without the
   * intermediate histogram. Never throws for a spear-shaped target; may be
   * called for several targets.
   */
  addTo(target: Histogram): void {
    if (this.#foreign !== undefined) {
      target.add(this.#foreign);
      return;
    }
    if (this.#bytes === undefined) return;
    const histogram = spearShaped(target);
    walkCounts(this.#bytes, this.#start, this.#end, countsOf(histogram), 'histogram');
    // The library's decode (establishInternalTackingValues) then add (fast path: same layout), step by step.
    const mask = histogram.unitMagnitudeMask;
    const rounded = histogram.lowestDiscernibleValueRounded;
    histogram.setTotalCount(histogram.totalCount + this.totalCount);
    const decodedMax = this.#maxIndex < 0 ? 0 : histogram.highestEquivalentValue(histogram.valueFromIndex(this.#maxIndex)) + mask;
    histogram.maxValue = Math.max(histogram.maxValue, decodedMax) + mask;
    const decodedMin = this.#minIndex < 0 ? Number.MAX_VALUE : Math.floor(histogram.valueFromIndex(this.#minIndex) / rounded) * rounded;
    const min = Math.min(histogram.minNonZeroValue, decodedMin);
    if (min > mask) histogram.minNonZeroValue = Math.floor(min / rounded) * rounded;
  }

  /** Another shape: the library decodes it and re-homes it now, so that `addTo` cannot fail later. */
  static #foreignShape(encoded: string, what: string): HistogramPayload {
    try {
      const home = createHistogram();
      home.add(decodeHistogram(encoded));
      return new HistogramPayload(undefined, 0, 0, noCounts, home);
    } catch (error) {
      throw new WireError(`${what}: a histogram of another shape that does not fit spear's (${messageOf(error)})`);
    }
  }
}

/** Reusable scratch for the base64 bytes (single-threaded, synchronous use only); grows to the largest report seen, at most maxEncodedBytes. */
let scratch = Buffer.allocUnsafe(16_384);

function inflateReport(encoded: string, what: string): Buffer {
  const text = encoded.trim();
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const expected = (text.length / 4) * 3 - padding;
  if (text.length % 4 !== 0 || text.length < 12) throw new WireError(`${what}: not an encoded histogram (base64 of ${text.length} characters)`);
  if (expected > maxEncodedBytes) throw new WireError(`${what}: an encoded histogram of ${expected} bytes, more than spear's ever take (${maxEncodedBytes})`);
  if (scratch.length < expected) scratch = Buffer.allocUnsafe(Math.min(maxEncodedBytes, Math.max(expected, 2 * scratch.length)));
  // Node skips characters that are not base64: a short count means the text was not clean base64.
  const written = scratch.write(text, 'base64');
  if (written !== expected) throw new WireError(`${what}: not an encoded histogram (invalid base64)`);
  const cookie = scratch.readUInt32BE(0);
  if ((cookie & ~0xf0) !== compressedCookieBase) throw new WireError(`${what}: not an encoded histogram (cookie 0x${cookie.toString(16)}, expected V2 compressed)`);
  const length = scratch.readUInt32BE(4);
  if (8 + length > written) throw new WireError(`${what}: compressed length ${length} exceeds the ${written - 8} bytes sent`);
  try {
    return inflateSync(scratch.subarray(8, 8 + length), { maxOutputLength: maxInflatedBytes });
  } catch (error) {
    throw new WireError(`${what}: compressed histogram does not inflate (${messageOf(error)}; at most ${maxInflatedBytes} bytes)`);
  }
}

interface Header {
  readonly payloadLength: number;
  readonly digits: number;
  readonly lowest: number;
  readonly highest: number;
}

function readHeader(bytes: Buffer, what: string): Header {
  if (bytes.length < headerBytes) throw new WireError(`${what}: inflated histogram of ${bytes.length} bytes has no complete header`);
  const cookie = bytes.readUInt32BE(0);
  if ((cookie & ~0xf0) !== encodingCookieBase) throw new WireError(`${what}: inflated histogram has cookie 0x${cookie.toString(16)}, expected V2`);
  const payloadLength = bytes.readUInt32BE(4);
  if (payloadLength > bytes.length - headerBytes) throw new WireError(`${what}: payload length ${payloadLength} exceeds the ${bytes.length - headerBytes} bytes inflated`);
  return {
    payloadLength,
    digits: bytes.readUInt32BE(12),
    lowest: int64(bytes, 16),
    highest: int64(bytes, 24),
  };
}

/** As the library reads an int64: two unsigned halves (exact up to 2^53). */
function int64(bytes: Buffer, offset: number): number {
  return bytes.readUInt32BE(offset) * 2 ** 32 + bytes.readUInt32BE(offset + 4);
}

/**
 * Whether the library would add a histogram of this header to a spear
 * histogram index by index (its fast path: same unit, sub-buckets and
 * bucket count). Only then do min and max follow the same rules.
 */
function fitsSpearShape(header: Header): boolean {
  return header.digits === layout.numberOfSignificantValueDigits
    && header.lowest === layout.lowestDiscernibleValue
    && bucketsToCover(header.highest) === layout.bucketCount;
}

/** The library's getBucketsNeededToCoverValue for spear's unit and sub-bucket count. */
function bucketsToCover(value: number): number {
  let smallestUntrackable = layout.subBucketCount * 2 ** layout.unitMagnitude;
  let buckets = 1;
  while (smallestUntrackable <= value) {
    if (smallestUntrackable > Number.MAX_SAFE_INTEGER / 2) return buckets + 1;
    smallestUntrackable *= 2;
    buckets += 1;
  }
  return buckets;
}

/**
 * Reads the counts in bytes [start, end), validating every word, and adds
 * them into `counts` when given. The same walk validates (at parse) and
 * adds (later), so an added payload is always a validated one.
 */
function walkCounts(bytes: Uint8Array, start: number, end: number, counts: Uint32Array | undefined, what: string): Walk {
  const length = layout.countsArrayLength;
  let index = 0;
  let total = 0;
  let minIndex = -1;
  let maxIndex = -1;
  let position = start;
  while (position < end) {
    // LEB128, least significant group first; at most maxWordBytes bytes, all inside the payload.
    let byte = bytes[position++]!;
    let word = byte & 0x7f;
    let scale = 128;
    let used = 1;
    while ((byte & 0x80) !== 0) {
      if (used === maxWordBytes || position >= end) throw new WireError(`${what}: malformed count at payload byte ${position - start}`);
      byte = bytes[position++]!;
      word += (byte & 0x7f) * scale;
      scale *= 128;
      used += 1;
    }
    if (word % 2 === 1) {
      // ZigZag odd: -(word + 1) / 2, a run of that many zero counts.
      index += (word + 1) / 2;
      if (index > length) throw new WireError(`${what}: counts run past index ${length - 1}`);
      continue;
    }
    const count = word / 2;
    if (count > 0) {
      if (index >= length) throw new WireError(`${what}: count at index ${index}, past the last index ${length - 1}`);
      if (count > maxCount) throw new WireError(`${what}: count ${count} at index ${index} does not fit 32 bits`);
      if (counts !== undefined) counts[index]! += count;
      total += count;
      maxIndex = index;
      if (minIndex < 0 && index !== 0) minIndex = index;
    }
    index += 1;
  }
  return { total, minIndex, maxIndex };
}

/** A spear-shaped histogram, narrowed; throws (a bug, not bad input) for any other. */
function spearShaped(histogram: Histogram): Int32Histogram {
  const int32 = int32Of(histogram);
  if (int32.countsArrayLength !== layout.countsArrayLength || int32.bucketCount !== layout.bucketCount
    || int32.subBucketCount !== layout.subBucketCount || int32.unitMagnitude !== layout.unitMagnitude) {
    throw new Error('HistogramPayload.addTo: the target does not have spear\'s histogram layout');
  }
  return int32;
}

/** Narrows a histogram to the JS build's 32-bit histogram. */
function int32Of(histogram: Histogram): Int32Histogram {
  if (!(histogram instanceof Int32Histogram)) throw new Error('HistogramPayload.addTo: the target is not a histogram from createHistogram()');
  countsOf(histogram);
  return histogram;
}

/** Its counts array (a Uint32Array in the JS build). */
function countsOf(histogram: Int32Histogram): Uint32Array {
  const counts = histogram._counts;
  if (!(counts instanceof Uint32Array)) throw new Error('HistogramPayload.addTo: the target\'s counts are not 32-bit');
  return counts;
}
