import { decodeHistogram } from '../metrics/histogram.js';
import type { ChartSpec } from './html-charts.js';
import { httpNoun, protocolName } from './html-names.js';
import type { RunResult } from './result.js';

/**
 * The HTML report's percentile plots (HdrHistogram plots): one chart per
 * metric, latency by percentile from the run's merged histograms, with
 * the percentile (as 1/(1−p)) and the latency both on log axes. Pure
 * apart from decoding histograms.
 */

/** Percentiles sampled per plot: 0, 90, 99, … up to 99.9999, ten per decade. */
const distributionSteps = 61;

/** Drawn values below this (ms) sit at it: a log axis has no zero, and histograms resolve 1 µs. */
const floorMs = 0.001;

const axesNote = 'Both axes are logarithmic: percentiles 90%, 99%, 99.9% … sit equally apart, and so do 1 ms, 10 ms, 100 ms.';

/** One percentile chart per metric the run recorded (empty histograms draw none), then one of every named request. */
export function percentileCharts(result: RunResult): ChartSpec[] {
  const charts: ChartSpec[] = [];
  const histograms = result.histograms;
  const http = httpNoun(result);
  const protocol = protocolName(result);
  if (result.summary.requests > 0) {
    const chart = result.summary.model === 'open'
      ? percentiles('distribution', `${http} latency (corrected) and service time by percentile`, [
        ['latency, corrected (from the intended send)', histograms.latency],
        ['service time (from the actual send)', histograms.serviceTime],
      ], `Open model. Latency is measured from each request's intended send time, so time a request waited to be sent (the server was slow to free a connection) counts; service time is measured from the actual send, as a tool without coordinated-omission correction would report it. ${axesNote}`)
      : percentiles('distribution', `${http} latency by percentile`, [['latency', histograms.latency]]);
    if (chart !== undefined) charts.push(chart);
  }
  const sessionCharts = [
    percentiles('connect-distribution', `${protocol} connect time by percentile`, [['connect', histograms.connect]], `TCP connect, upgrade${protocol === 'Socket.IO' ? ' and Socket.IO handshake' : ''}. ${axesNote}`),
    percentiles('reply-distribution', `${protocol} reply time by percentile`, [['reply', histograms.reply]], `From an emit or send to its ack or awaited reply. ${axesNote}`),
    percentiles('delivery-distribution', 'Broadcast delivery latency by percentile', [['delivery', histograms.delivery]], `From the send to each member's receipt, both in the coordinator's clock (agents' offsets corrected). ${axesNote}`),
  ];
  for (const chart of sessionCharts) if (chart !== undefined) charts.push(chart);
  const byRequest = result.summary.byRequest;
  if (byRequest !== undefined) {
    const named = Object.keys(byRequest).map((name): [string, string | undefined] => [name, result.requestHistograms?.[name]]);
    const chart = percentiles('requests-distribution', `${http} latency by percentile, by request`, named);
    if (chart !== undefined) charts.push(chart);
  }
  return charts;
}

/** The HdrHistogram plot of the non-empty histograms given (label, encoded); undefined when all are empty or absent. */
function percentiles(id: string, title: string, histograms: readonly [string, string | undefined][], note = axesNote): ChartSpec | undefined {
  const decoded = histograms
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([label, encoded]) => ({ label, histogram: decodeHistogram(encoded) }))
    .filter(({ histogram }) => histogram.totalCount > 0);
  if (decoded.length === 0) return undefined;
  const x: number[] = [];
  for (let step = 0; step < distributionSteps; step += 1) x.push(Math.round(10 ** (step / 10) * 1000) / 1000);
  return {
    id,
    title,
    note,
    xLabel: 'percentile',
    yLabel: 'ms (log scale)',
    x,
    series: decoded.map(({ label, histogram }) => ({
      label,
      values: x.map((inverse) => Math.max(floorMs, histogram.getValueAtPercentile(100 * (1 - 1 / inverse)) / 1000)),
    })),
    distribution: true,
    logY: true,
  };
}
