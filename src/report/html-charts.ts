import { decodeHistogram } from '../metrics/histogram.js';
import type { RunResult, TimelineEntry } from './result.js';

/** One chart for the HTML report: x values and named series, drawn by uPlot in the page. */
export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** x axis: seconds since the start, or 1/(1−percentile) on a log axis for distributions. */
  readonly x: readonly number[];
  readonly series: readonly { readonly label: string; readonly values: readonly (number | null)[] }[];
  readonly distribution: boolean;
}

/** Percentiles sampled for distribution plots: 0, 90, 99, … up to 99.9999, ten per decade. */
const distributionSteps = 61;

/** Every chart the run's data supports. Pure apart from decoding histograms. */
export function chartsFor(result: RunResult): ChartSpec[] {
  const timeline = result.timeline;
  const startMs = timeline[0]?.startMs ?? 0;
  const x = timeline.map((entry) => round((entry.endMs - startMs) / 1000));
  const charts: ChartSpec[] = [];
  const sessions = timeline.some((entry) => entry.sessions !== undefined);
  if (result.summary.requests > 0) {
    charts.push(overTime('throughput', 'Throughput and errors per second', x, 'per second', [
      ['requests/s', timeline.map((entry) => round(entry.rps))],
      ['errors/s', timeline.map((entry) => round(perSecond(entry, entry.errors + entry.statusErrors)))],
    ]));
    charts.push(overTime('latency-over-time', 'Latency per interval (merged histograms)', x, 'ms', [
      ['p50', timeline.map((entry) => entry.latencyMs.p50)],
      ['p90', timeline.map((entry) => entry.latencyMs.p90)],
      ['p99', timeline.map((entry) => entry.latencyMs.p99)],
    ]));
  }
  if (sessions) {
    charts.push(overTime('users', 'Users connected and joined', x, 'users', [
      ['connected', timeline.map((entry) => entry.sessions?.connected ?? null)],
      ['joined', timeline.map((entry) => entry.sessions?.joined ?? null)],
    ]));
    charts.push(overTime('messages', 'Messages and deliveries per second', x, 'per second', [
      ['messages in/s', timeline.map((entry) => round(perSecond(entry, entry.sessions?.messagesReceived ?? 0)))],
      ['deliveries/s', timeline.map((entry) => round(perSecond(entry, entry.sessions?.delivered ?? 0)))],
      ['disconnects/s', timeline.map((entry) => round(perSecond(entry, entry.sessions?.disconnects ?? 0)))],
    ]));
  } else {
    charts.push(overTime('connections', 'Open connections', x, 'connections', [['connections', timeline.map((entry) => entry.connections)]]));
  }
  const distributions: [string, string | undefined][] = [
    ['request latency', result.summary.requests > 0 ? result.histograms.latency : undefined],
    ['connect', result.histograms.connect],
    ['reply', result.histograms.reply],
    ['delivery', result.histograms.delivery],
  ];
  const present = distributions.filter((entry): entry is [string, string] => entry[1] !== undefined && decodeHistogram(entry[1]).totalCount > 0);
  if (present.length > 0) charts.push(distribution(present));
  return charts;
}

function overTime(id: string, title: string, x: number[], yLabel: string, series: [string, (number | null)[]][]): ChartSpec {
  return { id, title, xLabel: 'seconds', yLabel, x, series: series.map(([label, values]) => ({ label, values })), distribution: false };
}

/** The HdrHistogram plot: latency by percentile, x = 1/(1−percentile) on a log axis. */
function distribution(histograms: [string, string][]): ChartSpec {
  const decoded = histograms.map(([label, encoded]) => ({ label, histogram: decodeHistogram(encoded) }));
  const x: number[] = [];
  for (let step = 0; step < distributionSteps; step += 1) x.push(round(10 ** (step / 10)));
  return {
    id: 'distribution',
    title: 'Latency by percentile (HdrHistogram plot)',
    xLabel: 'percentile',
    yLabel: 'ms',
    x,
    series: decoded.map(({ label, histogram }) => ({
      label,
      values: x.map((inverse) => histogram.getValueAtPercentile(100 * (1 - 1 / inverse)) / 1000),
    })),
    distribution: true,
  };
}

function perSecond(entry: TimelineEntry, count: number): number {
  const seconds = (entry.endMs - entry.startMs) / 1000;
  return seconds > 0 ? count / seconds : 0;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
