import { decodeHistogram, percentileDistributionMs } from '../metrics/histogram.js';
import type { RunResult } from './result.js';

/** The histograms a result may hold, by the name their .hgrm file carries. */
const histogramNames = ['latency', 'serviceTime', 'connect', 'reply', 'delivery'] as const;
export type HistogramName = (typeof histogramNames)[number];

/**
 * One HdrHistogram percentile distribution (.hgrm text, values in ms) per
 * non-empty merged histogram of the run. Pure apart from decoding.
 */
export function renderHgrm(result: RunResult): Map<HistogramName, string> {
  const files = new Map<HistogramName, string>();
  for (const name of histogramNames) {
    const encoded = result.histograms[name];
    if (encoded === undefined) continue;
    const histogram = decodeHistogram(encoded);
    if (histogram.totalCount === 0) continue;
    files.set(name, percentileDistributionMs(histogram));
  }
  return files;
}
