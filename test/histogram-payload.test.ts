import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync, inflateSync } from 'node:zlib';
import { build, type Histogram } from 'hdr-histogram-js';
import { WireError } from '../src/errors.js';
import { createHistogram, decodeHistogram, encodeHistogram, recordUs } from '../src/metrics/histogram.js';
import { HistogramPayload } from '../src/metrics/histogram-payload.js';
import { Recorder } from '../src/metrics/recorder.js';
import { seededRandom } from './support/response-primitives.js';

/**
 * HistogramPayload against the library it replaces on the coordinator:
 * merging encoded histograms by adding their payloads must leave exactly
 * what `target.add(decodeHistogram(encoded))` leaves, to the count.
 */

const percentiles = [0, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 99.999, 100];

/** Everything a reader can see of a merged histogram. */
function observe(histogram: Histogram): Record<string, unknown> {
  return {
    totalCount: histogram.totalCount,
    min: histogram.minNonZeroValue,
    max: histogram.maxValue,
    mean: histogram.mean,
    stdDeviation: histogram.stdDeviation,
    percentiles: percentiles.map((percentile) => histogram.getValueAtPercentile(percentile)),
    encoded: encodeHistogram(histogram),
    distribution: histogram.outputPercentileDistribution(5, 1000),
  };
}

/** Merges `encodings` into a fresh histogram both ways; asserts they agree and returns the library's. */
function mergeBothWays(encodings: readonly string[], label: string): Histogram {
  const library = createHistogram();
  const direct = createHistogram();
  for (const encoded of encodings) {
    library.add(decodeHistogram(encoded));
    HistogramPayload.parse(encoded, label).addTo(direct);
  }
  assert.deepEqual(observe(direct), observe(library), label);
  return library;
}

type Shape = 'small' | 'typical' | 'huge' | 'clamped' | 'mixed' | 'single' | 'empty';

/** One agent interval's latencies of a given shape, recorded by spear's own Recorder and encoded as it sends them. */
function recorderEncoding(shape: Shape, next: () => number): string {
  const recorder = new Recorder();
  const count = shape === 'empty' ? 0 : shape === 'single' ? 1 : 1 + Math.floor(next() * 4000);
  for (let index = 0; index < count; index += 1) {
    const value = valueOf(shape, next);
    recorder.response(200, 100, value, value);
  }
  return recorder.takeInterval(0, 0).histograms.latency;
}

function valueOf(shape: Shape, next: () => number): number {
  switch (shape) {
    case 'small': return next() * 100;
    case 'typical': return 2000 * Math.exp(1.5 * (next() - 0.5) * 4);
    case 'huge': return 3_000_000_000 + next() * 600_000_000;
    case 'clamped': return next() < 0.5 ? -5 : 5e12;
    case 'mixed': return [0, 1, 7, 2047, 2048, 2049, 123_456, 3_599_999_999, 3_600_000_000][Math.floor(next() * 9)]!;
    default: return 1 + next() * 10_000;
  }
}

test('payloads merge exactly as the library: random histograms of every shape, from the Recorder', () => {
  const next = seededRandom(1);
  const shapes: Shape[] = ['small', 'typical', 'huge', 'clamped', 'mixed', 'single', 'empty'];
  for (let round = 0; round < 40; round += 1) {
    const encodings = Array.from({ length: 1 + Math.floor(next() * 12) }, () => recorderEncoding(shapes[Math.floor(next() * shapes.length)]!, next));
    mergeBothWays(encodings, `round ${round}`);
  }
  for (const shape of shapes) mergeBothWays([recorderEncoding(shape, next), recorderEncoding(shape, next)], shape);
  const merged = mergeBothWays([recorderEncoding('empty', next)], 'empty alone');
  assert.equal(merged.totalCount, 0);
});

test('payloads merge exactly as the library: values 0 and counts recorded straight into the library', () => {
  const next = seededRandom(2);
  const encodings: string[] = [];
  for (let index = 0; index < 20; index += 1) {
    const histogram = createHistogram();
    // Value 0 has its own bucket (index 0), which the library leaves out of minNonZeroValue.
    if (index % 3 === 0) histogram.recordValueWithCount(0, 1 + Math.floor(next() * 5));
    if (index % 4 !== 1) histogram.recordValueWithCount(Math.floor(next() * 3_600_000_000), 1 + Math.floor(next() * 1e6));
    for (let value = 0; value < 50; value += 1) recordUs(histogram, next() * 50_000);
    encodings.push(encodeHistogram(histogram));
  }
  mergeBothWays(encodings, 'library-recorded');
  const zeros = createHistogram();
  zeros.recordValueWithCount(0, 3);
  mergeBothWays([encodeHistogram(zeros)], 'only zeros');
  zeros.recordValueWithCount(5, 2);
  assert.equal(mergeBothWays([encodeHistogram(zeros), recorderEncoding('typical', next)], 'zeros and the smallest value').minNonZeroValue, 5);
});

test('a payload adds into several targets, and into a target that already holds values', () => {
  const next = seededRandom(3);
  const encoded = recorderEncoding('typical', next);
  const payload = HistogramPayload.parse(encoded, 'x');
  const first = createHistogram();
  const second = createHistogram();
  recordUs(second, 1);
  recordUs(second, 3_600_000_000);
  const expectedSecond = createHistogram();
  recordUs(expectedSecond, 1);
  recordUs(expectedSecond, 3_600_000_000);
  payload.addTo(first);
  payload.addTo(second);
  expectedSecond.add(decodeHistogram(encoded));
  assert.deepEqual(observe(first), observe(decodeHistogram(encoded)));
  assert.deepEqual(observe(second), observe(expectedSecond));
  assert.equal(payload.totalCount, first.totalCount);
});

/** A library histogram of another shape, encoded. */
function foreign(options: { lowest?: number; highest: number; digits?: 1 | 2 | 3 | 4 | 5 }, values: readonly number[]): string {
  const histogram = build({
    bitBucketSize: 32, autoResize: false, useWebAssembly: false,
    lowestDiscernibleValue: options.lowest ?? 1, highestTrackableValue: options.highest, numberOfSignificantValueDigits: options.digits ?? 3,
  });
  for (const value of values) histogram.recordValue(value);
  return encodeHistogram(histogram);
}

test('histograms of another shape merge as the library merges them (its own path), or fail as WireError when they do not fit', () => {
  const values = [1, 17, 2047, 2048, 65_536, 1_000_000, 59_999_999];
  const shapes: { lowest?: number; highest: number; digits?: 1 | 2 | 3 | 4 | 5 }[] = [
    { highest: 60_000_000 }, // fewer buckets
    { highest: 2 ** 31 + 5 }, // another highest, the same buckets: added directly
    { highest: 2 ** 32 - 1 },
    { highest: 3_600_000_000, digits: 2 },
    { highest: 3_600_000_000, lowest: 1000 },
    { highest: 2 ** 40 }, // more buckets, values in range
  ];
  for (const shape of shapes) {
    const encoded = foreign(shape, values);
    mergeBothWays([encoded, recorderEncoding('typical', seededRandom(4)), encoded], JSON.stringify(shape));
  }
  const tooBig = foreign({ highest: 2 ** 40 }, [1e12]);
  assert.throws(() => createHistogram().add(decodeHistogram(tooBig)), /do not fit/);
  assert.throws(() => HistogramPayload.parse(tooBig, 'report'), (error: unknown) => error instanceof WireError && /report: a histogram of another shape/.test(error.message));
});

// ---------------------------------------------------------------- untrusted input

/** The V2 compressed encoding of an uncompressed histogram buffer (header + payload). */
function compress(inner: Buffer, options: { cookie?: number; length?: number } = {}): string {
  const deflated = deflateSync(inner);
  const outer = Buffer.alloc(8);
  outer.writeUInt32BE(options.cookie ?? 0x1c849314, 0);
  outer.writeUInt32BE(options.length ?? deflated.length, 4);
  return Buffer.concat([outer, deflated]).toString('base64');
}

/** A spear-shaped uncompressed encoding with `payload` as its counts. */
function inner(payload: readonly number[], options: { cookie?: number; digits?: number; lowest?: number; highest?: number; payloadLength?: number } = {}): Buffer {
  const header = Buffer.alloc(40);
  header.writeUInt32BE(options.cookie ?? 0x1c849313, 0);
  header.writeUInt32BE(options.payloadLength ?? payload.length, 4);
  header.writeUInt32BE(1, 8);
  header.writeUInt32BE(options.digits ?? 3, 12);
  header.writeBigUInt64BE(BigInt(options.lowest ?? 1), 16);
  header.writeBigUInt64BE(BigInt(options.highest ?? 3_600_000_000), 24);
  header.writeBigUInt64BE(1n, 32);
  return Buffer.concat([header, Buffer.from(payload)]);
}

/** ZigZag LEB128 of one word, as the encoder writes it. */
function word(value: number): number[] {
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
  const bytes: number[] = [];
  while (zigzag >= 128) {
    bytes.push((zigzag % 128) | 0x80);
    zigzag = Math.floor(zigzag / 128);
  }
  bytes.push(zigzag);
  return bytes;
}

test('a hand-built payload (counts and zero runs) decodes as the library decodes it', () => {
  const payload = [...word(0), ...word(3), ...word(-2045), ...word(7), ...word(-20_000), ...word(1), ...word(-2), ...word(5)];
  const encoded = compress(inner(payload));
  assert.equal(mergeBothWays([encoded, encoded], 'hand-built').totalCount, 2 * (3 + 7 + 1 + 5));
  // The largest count a 32-bit bucket holds (once: twice would wrap, in the library as here).
  const largest = compress(inner([...word(-100), ...word(0xffffffff)]));
  assert.equal(mergeBothWays([largest], 'largest count').totalCount, 0xffffffff);
});

test('malformed reports throw WireError and leave the target untouched', () => {
  const valid = recorderEncoding('typical', seededRandom(5));
  const bytes = Buffer.from(valid, 'base64');
  const length = bytes.readUInt32BE(4);
  const lastIndex = 23_551;
  const cases: [string, string][] = [
    ['empty string', ''],
    ['not base64', '!!!!'.repeat(16)],
    ['base64 with a stray character', `${valid.slice(0, 20)}*${valid.slice(21)}`],
    ['truncated base64', valid.slice(0, valid.length - 3)],
    ['a string far longer than any histogram', 'A'.repeat(400_000)],
    ['an outer cookie of another format', compress(inner(word(1)), { cookie: 0x1c849301 })],
    ['a compressed length past the end', compress(inner(word(1)), { length: 10_000 })],
    ['a compressed length short of the stream', withLength(bytes, length - 5)],
    ['zlib garbage', Buffer.concat([bytes.subarray(0, 8), Buffer.alloc(length, 0x55)]).toString('base64')],
    ['an inflate bomb', compress(Buffer.concat([inner([], { payloadLength: 0 }), Buffer.alloc(5_000_000)]))],
    ['an inner cookie of another format', compress(inner(word(1), { cookie: 0x1c849302 }))],
    ['no complete header', compress(Buffer.alloc(20))],
    ['a payload length past the inflated bytes', compress(inner(word(1), { payloadLength: 50 }))],
    ['a word cut off at the payload end', compress(inner([0x81]))],
    ['a word longer than 5 bytes', compress(inner([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]))],
    ['a count that does not fit 32 bits', compress(inner(word(2 ** 32)))],
    ['a count past the last index', compress(inner([...word(-(lastIndex + 1)), ...word(1)]))],
    ['a zero run past the last index', compress(inner(word(-(lastIndex + 2))))],
    ['a lowest value of 0 (no histogram)', compress(inner(word(1), { lowest: 0 }))],
    ['more significant digits than exist', compress(inner(word(1), { digits: 9 }))],
  ];
  for (const [label, encoded] of cases) {
    const target = createHistogram();
    recordUs(target, 1234);
    const before = observe(target);
    assert.throws(() => HistogramPayload.parse(encoded, 'agent 3 interval 7: histograms.latency'), (error: unknown) => {
      assert.ok(error instanceof WireError, `${label}: ${String(error)}`);
      assert.match(error.message, /^agent 3 interval 7: histograms\.latency: /, label);
      return true;
    }, label);
    assert.deepEqual(observe(target), before, label);
  }
  // The last index itself is in range.
  mergeBothWays([compress(inner([...word(-lastIndex), ...word(2)]))], 'the last index');
});

// 400 rounds in npm test (about 6 s); SPEAR_FUZZ_ROUNDS=20000 for a longer hunt.
test('random corruption of valid reports: WireError or the library\'s exact result, never another error', () => {
  const next = seededRandom(6);
  let rejected = 0;
  let accepted = 0;
  for (let round = 0; round < Number(process.env.SPEAR_FUZZ_ROUNDS ?? 400); round += 1) {
    const source = recorderEncoding(round % 5 === 0 ? 'mixed' : 'typical', next);
    const bytes = Buffer.from(source, 'base64');
    // Corrupt the compressed stream, or (more often useful) the inflated bytes recompressed.
    const encoded = round % 2 === 0 ? mutate(bytes, next, 8).toString('base64') : recompressMutated(bytes, next);
    let payload: HistogramPayload;
    try {
      payload = HistogramPayload.parse(encoded, 'fuzz');
    } catch (error) {
      assert.ok(error instanceof WireError, `round ${round}: ${String(error)}`);
      rejected += 1;
      continue;
    }
    accepted += 1;
    let library: Histogram | undefined;
    try {
      library = createHistogram();
      library.add(decodeHistogram(encoded));
    } catch {
      library = undefined;
    }
    const direct = createHistogram();
    payload.addTo(direct);
    if (library !== undefined) assert.deepEqual(observe(direct), observe(library), `round ${round}`);
  }
  assert.ok(rejected > 25 && accepted > 25, `rejected ${rejected}, accepted ${accepted}`);
});

function withLength(bytes: Buffer, length: number): string {
  const copy = Buffer.from(bytes);
  copy.writeUInt32BE(length, 4);
  return copy.toString('base64');
}

function mutate(bytes: Buffer, next: () => number, from: number): Buffer {
  const copy = Buffer.from(bytes);
  const flips = 1 + Math.floor(next() * 3);
  for (let flip = 0; flip < flips; flip += 1) {
    const at = from + Math.floor(next() * (copy.length - from));
    copy[at] = Math.floor(next() * 256);
  }
  return copy;
}

function recompressMutated(bytes: Buffer, next: () => number): string {
  const inflated = decodeInner(bytes);
  // Mostly the payload; now and then the header.
  return compress(mutate(inflated, next, next() < 0.2 ? 0 : 40));
}

function decodeInner(bytes: Buffer): Buffer {
  return inflateSync(bytes.subarray(8, 8 + bytes.readUInt32BE(4)));
}
