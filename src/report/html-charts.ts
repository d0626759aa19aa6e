import { saturationThresholds, type AgentIntervalHealth } from '../metrics/generator-verdict.js';
import { HealthRows } from '../metrics/health-rows.js';
import { httpNoun, httpUnit, protocolName } from './html-names.js';
import { percentileCharts } from './html-percentiles.js';
import type { RunResult, TimelineEntry } from './result.js';

/** One chart for the HTML report: x values and named series, drawn by uPlot in the page. */
export interface ChartSpec {
  readonly id: string;
  /** The heading above the chart: names the metric it shows. */
  readonly title: string;
  /** How to read it (what is left out, what is corrected), printed under the heading; absent when nothing needs saying. */
  readonly note?: string | undefined;
  readonly xLabel: string;
  readonly yLabel: string;
  /** x axis: seconds since the start, or 1/(1−percentile) on a log axis for distributions. */
  readonly x: readonly number[];
  readonly series: readonly ChartSeries[];
  /** A percentile plot: x is 1/(1−percentile) on a log axis. */
  readonly distribution: boolean;
  /** y on a log axis (latency in percentile plots). */
  readonly logY: boolean;
}

export interface ChartSeries {
  readonly label: string;
  readonly values: readonly (number | null)[];
  /** A reference line (a limit), drawn dashed and grey. */
  readonly limit?: boolean;
}

/** Above this many agents the self-health charts draw the worst and the mean agent instead of one line each. */
const agentsDrawnApart = 8;

/**
 * A rate needs a long enough interval: the final one (agents stop sending,
 * in-flight requests drain) is often a few milliseconds long and holds a
 * handful of responses, which per second of its own length would draw a
 * false cliff or spike. Rate charts leave out intervals shorter than this
 * share of the report interval.
 */
const rateMinShare = 0.5;

/** Every chart the run's data supports. Pure apart from decoding histograms. */
export function chartsFor(result: RunResult): ChartSpec[] {
  const timeline = result.timeline;
  const startMs = timeline[0]?.startMs ?? 0;
  const x = timeline.map((entry) => round((entry.endMs - startMs) / 1000));
  const rate = rateOf(result);
  const charts: ChartSpec[] = [];
  const sessions = timeline.some((entry) => entry.sessions !== undefined);
  const http = httpNoun(result);
  const protocol = protocolName(result);
  if (result.summary.requests > 0) {
    charts.push(overTime('throughput', `${http}s and errors per second`, x, 'per second', [
      [`${httpUnit(result)}s/s`, timeline.map((entry) => rate.of(entry, entry.requests))],
      ['errors/s', timeline.map((entry) => rate.of(entry, entry.errors + entry.statusErrors))],
    ], rate.note));
    const open = result.summary.model === 'open';
    // An interval without responses has no latency: a gap, not 0 ms.
    const latency = (pick: (entry: TimelineEntry) => number): (number | null)[] => timeline.map((entry) => (entry.requests > 0 ? pick(entry) : null));
    charts.push(overTime('latency-over-time', `${http} latency${open ? ' (corrected)' : ''} per interval: p50, p90, p99`, x, 'ms', [
      ['p50', latency((entry) => entry.latencyMs.p50)],
      ['p90', latency((entry) => entry.latencyMs.p90)],
      ['p99', latency((entry) => entry.latencyMs.p99)],
    ], `${open ? 'Corrected latency: from each request\'s intended send time (coordinated omission corrected). The timeline keeps no per-interval service time, so only the percentile chart shows it beside latency. ' : ''}Each interval's own merged histogram (exact across agents, never averaged percentiles); intervals without responses are gaps.`));
  }
  if (sessions) {
    charts.push(overTime('users', `${protocol} users connected and joined`, x, 'users', [
      ['connected', timeline.map((entry) => entry.sessions?.connected ?? null)],
      ['joined', timeline.map((entry) => entry.sessions?.joined ?? null)],
    ]));
    charts.push(overTime('messages', `${protocol} messages received, broadcast deliveries, connects and disconnects per second`, x, 'per second', [
      ['messages in/s', timeline.map((entry) => rate.of(entry, entry.sessions?.messagesReceived ?? 0))],
      ['deliveries/s', timeline.map((entry) => rate.of(entry, entry.sessions?.delivered ?? 0))],
      ['connects/s', timeline.map((entry) => rate.of(entry, entry.sessions?.opened ?? 0))],
      ['disconnects/s', timeline.map((entry) => rate.of(entry, entry.sessions?.disconnects ?? 0))],
    ], rate.note));
    const delivery = deliveryOverTime(timeline, x);
    if (delivery !== undefined) charts.push(delivery);
  } else {
    charts.push(overTime('connections', `${protocol} connections open`, x, 'connections', [['connections', timeline.map((entry) => entry.connections)]]));
  }
  charts.push(...requestCharts(result, x, rate));
  charts.push(...percentileCharts(result));
  // Version 2 results of larger fleets keep only the worst agents' rows per interval (src/metrics/timeline-health.ts).
  charts.push(...healthCharts(timeline, x, result.version === 1 || result.agents.length <= HealthRows.everyAgentUpTo));
  return charts;
}

/** Per-second rates of a run's intervals, under the rate rule (see rateMinShare), and the note that says so. */
interface RateRule {
  of(entry: TimelineEntry, count: number): number | null;
  readonly note: string;
}

function rateOf(result: RunResult): RateRule {
  const declared = result.scenario.intervalMs;
  const nominalMs = Number.isFinite(declared) && declared > 0 ? declared : Math.max(0, ...result.timeline.map((entry) => entry.endMs - entry.startMs));
  const minMs = nominalMs * rateMinShare;
  return {
    of: (entry, count) => {
      const ms = entry.endMs - entry.startMs;
      return ms > 0 && ms >= minMs ? round((count * 1000) / ms) : null;
    },
    note: `Rates are counts per second of each interval's own length. Intervals shorter than ${formatSeconds(minMs)} (half the ${formatSeconds(nominalMs)} report interval), usually the final drain after the load stopped, are left out: a handful of late responses over a fraction of a second would draw a false cliff.`,
  };
}

function formatSeconds(ms: number): string {
  return `${round(ms / 1000)} s`;
}

/**
 * Broadcast delivery latency per interval (p50 and p99), from the timeline's
 * `sessions.deliveryMs`; undefined for results whose timeline does not keep it.
 */
function deliveryOverTime(timeline: readonly TimelineEntry[], x: number[]): ChartSpec | undefined {
  const deliveries = timeline.map((entry) => entry.sessions?.deliveryMs);
  if (!deliveries.some((delivery) => delivery !== undefined && delivery.count > 0)) return undefined;
  const read = (pick: (delivery: DeliveryTick) => number): (number | null)[] => deliveries.map((delivery) => (delivery === undefined || delivery.count === 0 ? null : pick(delivery)));
  return overTime('delivery-over-time', 'Broadcast delivery latency per interval: p50, p99', x, 'ms', [
    ['p50', read((delivery) => delivery.p50)],
    ['p99', read((delivery) => delivery.p99)],
  ], 'From the send to each member\'s receipt, both in the coordinator\'s clock; each interval\'s own merged histogram. Intervals without deliveries are gaps.');
}

type DeliveryTick = NonNullable<NonNullable<TimelineEntry['sessions']>['deliveryMs']>;

function overTime(id: string, title: string, x: number[], yLabel: string, series: [string, (number | null)[]][], note?: string): ChartSpec {
  return { id, title, note, xLabel: 'seconds', yLabel, x, series: series.map(([label, values]) => ({ label, values })), distribution: false, logY: false };
}

/**
 * spear's self-health over time: each agent's load-loop delay p99, and its
 * CPU and load-loop utilization, with the saturation limits as dashed lines.
 * None for results written before agents reported their health.
 */
function healthCharts(timeline: readonly TimelineEntry[], x: number[], everyRow: boolean): ChartSpec[] {
  const healths = timeline.map((entry) => (entry as Partial<TimelineEntry>).health ?? []);
  const agents = [...new Set(healths.flat().map((health) => health.agent))].sort((a, b) => a - b);
  if (agents.length === 0) return [];
  const limit = (label: string, value: number): ChartSeries => ({ label, values: x.map(() => value), limit: true });
  const percent = (value: number | undefined): number | null => (value === undefined ? null : round(value * 100));
  const draw = everyRow ? agents : undefined;
  const loop = overTime('self-loop', 'spear self-health: load-loop delay p99 per agent', x, 'ms', perAgent(healths, draw, '', (health) => health.loopDelayMs.p99));
  const busy = overTime('self-cpu', 'spear self-health: CPU (% of one core) and load loop busy (% of the time) per agent', x, '%', [
    ...perAgent(healths, draw, ' CPU', (health) => percent(health.cpu)),
    // Results written before agents measured utilization have no `elu`.
    ...perAgent(healths, draw, ' loop busy', (health) => percent((health as Partial<AgentIntervalHealth>).elu)),
  ]);
  return [
    { ...loop, series: [...loop.series, limit(`saturated above ${saturationThresholds.loopDelayP99Ms} ms`, saturationThresholds.loopDelayP99Ms)] },
    { ...busy, series: [...busy.series, limit(`saturated from ${saturationThresholds.cpu * 100}%`, saturationThresholds.cpu * 100)] },
  ];
}

/**
 * One series per agent ("agent 1" + suffix), or with many agents the worst
 * and the mean of those reporting; only the worst when the rows are not
 * every agent's (`agents` undefined: the worst agent's row is always kept).
 */
function perAgent(
  healths: readonly (readonly AgentIntervalHealth[])[], agents: readonly number[] | undefined, suffix: string, read: (health: AgentIntervalHealth) => number | null,
): [string, (number | null)[]][] {
  if (agents !== undefined && agents.length <= agentsDrawnApart) {
    return agents.map((agent) => [`agent ${agent}${suffix}`, healths.map((list) => {
      const health = list.find((each) => each.agent === agent);
      return health === undefined ? null : read(health);
    })]);
  }
  const values = healths.map((list) => list.map(read).filter((value): value is number => value !== null));
  const worst: [string, (number | null)[]] = [`worst agent${suffix}`, values.map((list) => (list.length === 0 ? null : Math.max(...list)))];
  if (agents === undefined) return [worst];
  return [worst, [`mean agent${suffix}`, values.map((list) => (list.length === 0 ? null : round(list.reduce((sum, value) => sum + value, 0) / list.length)))]];
}

/**
 * Runs with several request names: each request's responses per second
 * over time (under the rate rule); its latency by percentile is among the
 * percentile charts.
 */
function requestCharts(result: RunResult, x: number[], rate: RateRule): ChartSpec[] {
  const byRequest = result.summary.byRequest;
  if (byRequest === undefined) return [];
  const names = Object.keys(byRequest);
  return [overTime('requests-rate', `${httpNoun(result)} responses per second, by request`, x, 'per second', names.map((name): [string, (number | null)[]] => [
    name, result.timeline.map((entry) => {
      const tick = entry.byRequest?.[name];
      return tick === undefined ? null : rate.of(entry, tick.requests);
    }),
  ]), rate.note)];
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
