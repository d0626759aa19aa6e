import { saturationThresholds, type AgentIntervalHealth } from '../metrics/generator-verdict.js';
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
  readonly series: readonly ChartSeries[];
  readonly distribution: boolean;
}

export interface ChartSeries {
  readonly label: string;
  readonly values: readonly (number | null)[];
  /** A reference line (a limit), drawn dashed and grey. */
  readonly limit?: boolean;
}

/** Above this many agents the self-health charts draw the worst and the mean agent instead of one line each. */
const agentsDrawnApart = 8;

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
  charts.push(...requestCharts(result, x));
  charts.push(...healthCharts(timeline, x));
  return charts;
}

function overTime(id: string, title: string, x: number[], yLabel: string, series: [string, (number | null)[]][]): ChartSpec {
  return { id, title, xLabel: 'seconds', yLabel, x, series: series.map(([label, values]) => ({ label, values })), distribution: false };
}

/**
 * spear's self-health over time: each agent's load-loop delay p99, and its
 * CPU and load-loop utilization, with the saturation limits as dashed lines.
 * None for results written before agents reported their health.
 */
function healthCharts(timeline: readonly TimelineEntry[], x: number[]): ChartSpec[] {
  const healths = timeline.map((entry) => (entry as Partial<TimelineEntry>).health ?? []);
  const agents = [...new Set(healths.flat().map((health) => health.agent))].sort((a, b) => a - b);
  if (agents.length === 0) return [];
  const limit = (label: string, value: number): ChartSeries => ({ label, values: x.map(() => value), limit: true });
  const percent = (value: number | undefined): number | null => (value === undefined ? null : round(value * 100));
  const loop = overTime('self-loop', 'spear self-health: load-loop delay p99 per agent', x, 'ms', perAgent(healths, agents, '', (health) => health.loopDelayMs.p99));
  const busy = overTime('self-cpu', 'spear self-health: CPU (% of one core) and load loop busy (% of the time) per agent', x, '%', [
    ...perAgent(healths, agents, ' CPU', (health) => percent(health.cpu)),
    // Results written before agents measured utilization have no `elu`.
    ...perAgent(healths, agents, ' loop busy', (health) => percent((health as Partial<AgentIntervalHealth>).elu)),
  ]);
  return [
    { ...loop, series: [...loop.series, limit(`saturated above ${saturationThresholds.loopDelayP99Ms} ms`, saturationThresholds.loopDelayP99Ms)] },
    { ...busy, series: [...busy.series, limit(`saturated from ${saturationThresholds.cpu * 100}%`, saturationThresholds.cpu * 100)] },
  ];
}

/** One series per agent ("agent 1" + suffix), or with many agents the worst and the mean of those reporting. */
function perAgent(
  healths: readonly (readonly AgentIntervalHealth[])[], agents: readonly number[], suffix: string, read: (health: AgentIntervalHealth) => number | null,
): [string, (number | null)[]][] {
  if (agents.length <= agentsDrawnApart) {
    return agents.map((agent) => [`agent ${agent}${suffix}`, healths.map((list) => {
      const health = list.find((each) => each.agent === agent);
      return health === undefined ? null : read(health);
    })]);
  }
  const values = healths.map((list) => list.map(read).filter((value): value is number => value !== null));
  return [
    [`worst agent${suffix}`, values.map((list) => (list.length === 0 ? null : Math.max(...list)))],
    [`mean agent${suffix}`, values.map((list) => (list.length === 0 ? null : round(list.reduce((sum, value) => sum + value, 0) / list.length)))],
  ];
}

/**
 * Runs with several request names: each request's responses per second
 * over time, and its latency by percentile (its merged histogram).
 */
function requestCharts(result: RunResult, x: number[]): ChartSpec[] {
  const byRequest = result.summary.byRequest;
  if (byRequest === undefined) return [];
  const names = Object.keys(byRequest);
  const charts = [overTime('requests-rate', 'Responses per second, by request', x, 'per second', names.map((name): [string, (number | null)[]] => [
    name, result.timeline.map((entry) => {
      const tick = entry.byRequest?.[name];
      return tick === undefined ? null : round(perSecond(entry, tick.requests));
    }),
  ]))];
  const histograms = names
    .map((name): [string, string | undefined] => [name, result.requestHistograms?.[name]])
    .filter((entry): entry is [string, string] => entry[1] !== undefined && decodeHistogram(entry[1]).totalCount > 0);
  if (histograms.length > 0) charts.push(distribution(histograms, 'requests-distribution', 'Latency by percentile, by request (HdrHistogram plot)'));
  return charts;
}

/** The HdrHistogram plot: latency by percentile, x = 1/(1−percentile) on a log axis. */
function distribution(histograms: [string, string][], id = 'distribution', title = 'Latency by percentile (HdrHistogram plot)'): ChartSpec {
  const decoded = histograms.map(([label, encoded]) => ({ label, histogram: decodeHistogram(encoded) }));
  const x: number[] = [];
  for (let step = 0; step < distributionSteps; step += 1) x.push(round(10 ** (step / 10)));
  return {
    id,
    title,
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
