import { parseDurationMs } from '../scenarios/units.js';
import type { LatencySummaryMs } from '../metrics/histogram.js';
import { parseRequestRef, requestRef } from '../scenarios/request-names.js';
import type { RunResult, Summary } from './result.js';
import { comparisonWarnings, verdictOf } from './self-health.js';
import { formatMs } from './text-summary.js';

export type MetricUnit = 'ms' | 'req/s' | 'count' | '%';

/** One metric of a comparison: the baseline's value, this run's, and the change. */
export interface ComparedMetric {
  readonly name: string;
  readonly unit: MetricUnit;
  readonly baseline: number;
  readonly current: number;
  /** current − baseline, in the metric's unit. */
  readonly delta: number;
  /** The change relative to the baseline, in percent; null when the baseline is 0. */
  readonly deltaPercent: number | null;
  /** Whether lower is better (latency, errors) or higher (rps). */
  readonly lowerIsBetter: boolean;
  /** Worse than the baseline by more than the tolerance. */
  readonly regression: boolean;
}

/** A change within this share of the baseline is noise, not a regression. */
const tolerancePercent = 5;
const percentiles = ['p50', 'p75', 'p90', 'p95', 'p99', 'p999', 'max'] as const;

/** Compares every headline metric both results have. Pure. */
export function compareResults(baseline: RunResult, current: RunResult): ComparedMetric[] {
  const metrics: ComparedMetric[] = [];
  const add = (name: string, unit: MetricUnit, before: number, after: number, lowerIsBetter: boolean): void => {
    metrics.push(compared(name, unit, before, after, lowerIsBetter));
  };
  const b = baseline.summary;
  const c = current.summary;
  if (b.requests > 0 || c.requests > 0) {
    add('rps', 'req/s', b.rps, c.rps, false);
    add('requests', 'count', b.requests, c.requests, false);
    addLatency(add, '', b.latencyMs, c.latencyMs);
  }
  add('errors', 'count', b.errors.total, c.errors.total, true);
  add('errorRate', '%', b.errorRate * 100, c.errorRate * 100, true);
  if (b.connectMs !== undefined && c.connectMs !== undefined) addLatency(add, 'connect.', b.connectMs, c.connectMs);
  if (b.connections !== undefined && c.connections !== undefined) add('disconnects', 'count', b.connections.disconnects, c.connections.disconnects, true);
  if (b.broadcast !== undefined && c.broadcast !== undefined) {
    addLatency(add, 'delivery.', b.broadcast.latencyMs, c.broadcast.latencyMs);
    add('lost', 'count', b.broadcast.lost, c.broadcast.lost, true);
    add('duplicated', 'count', b.broadcast.duplicated, c.broadcast.duplicated, true);
  }
  addRequests(add, b.byRequest, c.byRequest);
  // Agents spear found saturated: not the server's number, but what makes every other row suspect.
  const before = verdictOf(baseline);
  const after = verdictOf(current);
  if (before !== undefined && after !== undefined) add('saturated', 'count', before.agents.length, after.agents.length, true);
  return metrics;
}

/** Per request, when both runs kept per-request statistics: rps, p50 and p99 of every name both have, named as thresholds name them. */
function addRequests(add: (name: string, unit: MetricUnit, before: number, after: number, lowerIsBetter: boolean) => void, before: Summary['byRequest'], after: Summary['byRequest']): void {
  if (before === undefined || after === undefined) return;
  for (const [name, entry] of Object.entries(after)) {
    const base = before[name];
    if (base === undefined) continue;
    const ref = requestRef(name);
    add(`${ref}.rps`, 'req/s', base.rps, entry.rps, false);
    add(`${ref}.p50`, 'ms', base.latencyMs.p50, entry.latencyMs.p50, true);
    add(`${ref}.p99`, 'ms', base.latencyMs.p99, entry.latencyMs.p99, true);
  }
}

function addLatency(add: (name: string, unit: MetricUnit, before: number, after: number, lowerIsBetter: boolean) => void, prefix: string, before: LatencySummaryMs, after: LatencySummaryMs): void {
  for (const percentile of percentiles) add(`${prefix}${percentile}`, 'ms', before[percentile], after[percentile], true);
}

function compared(name: string, unit: MetricUnit, baseline: number, current: number, lowerIsBetter: boolean): ComparedMetric {
  const delta = current - baseline;
  const deltaPercent = baseline === 0 ? null : (delta / baseline) * 100;
  const worse = lowerIsBetter ? delta > 0 : delta < 0;
  const regression = worse && (deltaPercent === null ? delta !== 0 : Math.abs(deltaPercent) > tolerancePercent);
  return { name, unit, baseline, current, delta, deltaPercent, lowerIsBetter, regression };
}

/** A CI gate on a comparison: "p99 > +10%", "rps < -5%", "p99 > +2ms", "errors > 0". */
export interface FailCondition {
  readonly source: string;
  readonly metric: string;
  readonly operator: '<' | '>' | '<=' | '>=';
  readonly value: number;
  readonly relative: boolean;
}

const conditionPattern = /^\s*((?:requests\["(?:[^"\\]|\\.)*"\]\.)?[a-z0-9._-]+)\s*(<=|>=|<|>)\s*([+-]?)(\S+)\s*$/i;

/** Parses a --fail-if condition, or returns the one-line problem. */
export function parseFailCondition(source: string): FailCondition | string {
  const match = conditionPattern.exec(source);
  if (match === null) return `--fail-if: expected "<metric> <op> <change>" such as "p99 > +10%", got ${JSON.stringify(source)}`;
  const [, written = '', operator = '>', sign = '', amount = ''] = match;
  const metric = canonicalMetric(written);
  const negative = sign === '-' ? -1 : 1;
  if (amount.endsWith('%')) {
    const value = Number(amount.slice(0, -1));
    if (!Number.isFinite(value)) return `--fail-if: ${JSON.stringify(amount)} is not a percentage`;
    return { source, metric, operator: operator as FailCondition['operator'], value: negative * value, relative: true };
  }
  const plain = Number(amount);
  const value = Number.isFinite(plain) ? plain : parseDurationMs(amount);
  if (value === undefined) return `--fail-if: ${JSON.stringify(amount)} is neither a number, a duration nor a percentage`;
  return { source, metric, operator: operator as FailCondition['operator'], value: negative * value, relative: false };
}

/** `requests["login"].p99` and `requests.login.p99` name one metric: the form comparisons use (requestRef). */
function canonicalMetric(written: string): string {
  const ref = parseRequestRef(written);
  return ref === undefined || typeof ref === 'string' ? written : `${requestRef(ref.name)}.${ref.rest}`;
}

/** The conditions that hold (the run should fail), or a problem naming an unknown metric. */
export function failedConditions(metrics: readonly ComparedMetric[], conditions: readonly FailCondition[]): { failed: FailCondition[]; unknown: string[] } {
  const failed: FailCondition[] = [];
  const unknown: string[] = [];
  for (const condition of conditions) {
    const metric = metrics.find((each) => each.name === condition.metric.replace(/^p99\.9$/, 'p999'));
    if (metric === undefined) {
      unknown.push(`--fail-if: no metric ${JSON.stringify(condition.metric)} in both results (have: ${metrics.map((each) => each.name).join(', ')})`);
      continue;
    }
    const change = condition.relative ? metric.deltaPercent ?? (metric.delta === 0 ? 0 : Math.sign(metric.delta) * Infinity) : metric.delta;
    if (holds(change, condition.operator, condition.value)) failed.push(condition);
  }
  return { failed, unknown };
}

function holds(actual: number, operator: FailCondition['operator'], bound: number): boolean {
  switch (operator) {
    case '<': return actual < bound;
    case '<=': return actual <= bound;
    case '>': return actual > bound;
    case '>=': return actual >= bound;
  }
}

/** Durations that differ by more than this share of the baseline's make a comparison suspect. */
const durationTolerance = 0.1;

/**
 * Warnings when the two runs did not measure the same thing: another load
 * model (closed, open, users) or protocol, durations more than 10 % apart
 * (a run that was aborted or interrupted shows here too), another target.
 * Pure.
 */
export function runMismatches(baseline: RunResult, current: RunResult): string[] {
  const lines: string[] = [];
  const modelOf = (result: RunResult): string => `${result.summary.model} model${result.scenario.protocol === 'http' ? '' : ` (${result.scenario.protocol})`}`;
  if (modelOf(baseline) !== modelOf(current)) {
    lines.push(`WARNING: the runs differ in load model: baseline ${modelOf(baseline)}, current ${modelOf(current)}: their latencies and rates measure different things.`);
  }
  const before = baseline.summary.durationS;
  const after = current.summary.durationS;
  if (before > 0 && Math.abs(after - before) / before > durationTolerance) {
    lines.push(`WARNING: the runs differ in duration by more than ${durationTolerance * 100}%: baseline ${before.toFixed(1)}s, current ${after.toFixed(1)}s.`);
  }
  if (baseline.scenario.target !== current.scenario.target) {
    lines.push(`WARNING: the runs differ in target: baseline ${baseline.scenario.target}, current ${current.scenario.target}.`);
  }
  return lines;
}

/** The comparison as a text table; regressions are marked. Pure. */
export function renderComparison(baselineFile: string, baseline: RunResult, currentFile: string, current: RunResult, metrics: readonly ComparedMetric[]): string {
  const lines = [`spear compare: ${currentFile} (${current.startedAt}) against baseline ${baselineFile} (${baseline.startedAt})`];
  lines.push(...comparisonWarnings(baselineFile, baseline, currentFile, current).map((line) => `  ${line}`));
  lines.push(...runMismatches(baseline, current).map((line) => `  ${line}`));
  // Per-request metrics carry the request's name: the first column widens to fit them.
  const width = Math.max(16, ...metrics.map((metric) => metric.name.length + 2));
  lines.push(`  ${'metric'.padEnd(width)}${'baseline'.padStart(14)}${'current'.padStart(14)}${'change'.padStart(12)}`);
  for (const metric of metrics) {
    const change = metric.deltaPercent === null ? (metric.delta === 0 ? '0' : `${metric.delta > 0 ? '+' : ''}${formatValue(metric.delta, metric.unit)}`) : `${metric.deltaPercent > 0 ? '+' : ''}${metric.deltaPercent.toFixed(1)}%`;
    const mark = metric.regression ? '  REGRESSION' : '';
    lines.push(`  ${metric.name.padEnd(width)}${formatValue(metric.baseline, metric.unit).padStart(14)}${formatValue(metric.current, metric.unit).padStart(14)}${change.padStart(12)}${mark}`);
  }
  const regressions = metrics.filter((metric) => metric.regression).length;
  lines.push(regressions === 0 ? '  no regression beyond 5%' : `  ${regressions} regression${regressions === 1 ? '' : 's'} beyond 5%`);
  return `${lines.join('\n')}\n`;
}

function formatValue(value: number, unit: MetricUnit): string {
  switch (unit) {
    case 'ms':
      return formatMs(Math.abs(value)) === formatMs(value) ? formatMs(value) : `-${formatMs(Math.abs(value))}`;
    case 'req/s':
      return value.toFixed(1);
    case '%':
      return `${value.toFixed(2)}%`;
    case 'count':
      return String(Math.round(value));
  }
}
