import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

/**
 * Where spear meets hdr-histogram-js (with histogram-payload.ts, which adds
 * encoded reports straight into these histograms' counts on the
 * coordinator). Every latency histogram in spear
 * has the same shape, so any two can be added exactly: integer microseconds,
 * 1 µs to 1 hour, 3 significant digits, 32-bit counts, the JS build (measured
 * faster than the WASM one for single records).
 */
export type { Histogram };

/** Largest value recorded; larger ones are clamped (and are timeouts anyway). */
export const maxTrackableUs = 3_600_000_000;

/** A new empty histogram of spear's shape. */
export function createHistogram(): Histogram {
  return build({
    bitBucketSize: 32,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: maxTrackableUs,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

/** Records one latency. Hot path: no allocation. */
export function recordUs(histogram: Histogram, us: number): void {
  histogram.recordValue(us < 1 ? 1 : us > maxTrackableUs ? maxTrackableUs : us);
}

/** HdrHistogram V2 compressed base64 ("HISTF…"), readable by the Java and Go tools. */
export function encodeHistogram(histogram: Histogram): string {
  return encodeIntoCompressedBase64(histogram);
}

/**
 * Decodes a histogram from a result file (or any encoding) into spear's
 * shape, building it in full; the coordinator's merge adds agents' reports
 * with HistogramPayload instead, which never builds one.
 */
export function decodeHistogram(encoded: string): Histogram {
  const decoded = decodeFromCompressedBase64(encoded, 32, false);
  if (decoded.highestTrackableValue === maxTrackableUs && decoded.numberOfSignificantValueDigits === 3) return decoded;
  // Foreign shape: re-home it so `add` stays exact for every later merge.
  const histogram = createHistogram();
  histogram.add(decoded);
  return histogram;
}

/** Percentiles, in milliseconds, of a merged histogram: what reports show. */
export interface LatencySummaryMs {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly stdev: number;
  readonly p50: number;
  readonly p75: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** Summarizes a histogram of microseconds into milliseconds (3 decimals). */
export function summarizeMs(histogram: Histogram): LatencySummaryMs {
  const empty = histogram.totalCount === 0;
  const at = (percentile: number): number => (empty ? 0 : toMs(histogram.getValueAtPercentile(percentile)));
  return {
    count: histogram.totalCount,
    min: empty ? 0 : toMs(histogram.minNonZeroValue),
    mean: empty ? 0 : toMs(histogram.mean),
    stdev: empty ? 0 : toMs(histogram.stdDeviation),
    p50: at(50),
    p75: at(75),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    p999: at(99.9),
    max: empty ? 0 : toMs(histogram.maxValue),
  };
}

function toMs(us: number): number {
  return Math.round(us) / 1000;
}

/**
 * HdrHistogram's percentile distribution text (the .hgrm format its plotter
 * reads), values in milliseconds, 5 ticks per half distance as the Java tool writes.
 */
export function percentileDistributionMs(histogram: Histogram): string {
  return histogram.outputPercentileDistribution(5, 1000);
}
