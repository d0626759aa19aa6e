import { parseDurationMs } from './units.js';
import { parseRequestRef } from './request-names.js';
import { latencyScopes, thresholdMetrics, type LatencyScope, type Threshold, type ThresholdMetric, type ThresholdOperator } from './scenario.js';

const latencyMetrics: ReadonlySet<ThresholdMetric> = new Set(['p50', 'p75', 'p90', 'p95', 'p99', 'p999', 'min', 'mean', 'max']);
const shareMetrics: ReadonlySet<ThresholdMetric> = new Set(['errors', 'dropped', 'lost', 'disconnects', 'neverStarted']);
/** Every metric a threshold may name. */
const knownMetrics: readonly string[] = thresholdMetrics;
// Upper case letters too, for `neverStarted` (named as in the result file); names still match exactly, so "P99" is an unknown metric.
const expression = /^\s*([A-Za-z0-9.]+)\s*(<=|>=|<|>)\s*(\S+)\s*$/;

/** Accepts "p99.9" as an alias of "p999". */
function metricOf(name: string): ThresholdMetric | undefined {
  const normalized = name === 'p99.9' ? 'p999' : name;
  return knownMetrics.includes(normalized) ? (normalized as ThresholdMetric) : undefined;
}

/** "delivery.p99" → scope delivery, metric p99; "p99" → scope latency. */
function scoped(name: string): { scope: LatencyScope; name: string } | string {
  const dot = name.indexOf('.');
  const head = dot < 0 ? '' : name.slice(0, dot);
  if (dot < 0 || head === 'latency' || !(latencyScopes as readonly string[]).includes(head)) return { scope: 'latency', name };
  return { scope: head as LatencyScope, name: name.slice(dot + 1) };
}

/**
 * Parses "p99 < 50ms", "errors < 1%", "rps >= 1000", "delivery.p99 < 100ms",
 * "lost < 0.1%", "saturated < 1" (fail a run in which spear itself was the
 * bottleneck), "neverStarted < 1" (fail a long-connection run that left
 * users unstarted), "requests.login.p99 < 200ms" and
 * "requests[\"GET /x\"].errors < 1%" (one request's statistics). Returns
 * the parsed threshold or a one-line problem for the caller to place in
 * the file.
 */
export function parseThreshold(source: string): Threshold | string {
  const ref = parseRequestRef(source);
  if (ref !== undefined) return requestThreshold(source, ref);
  const match = expression.exec(source);
  if (match === null) return `expected "<metric> <op> <value>" such as "p99 < 50ms", got ${JSON.stringify(source)}`;
  const named = scoped(match[1] ?? '');
  if (typeof named === 'string') return named;
  const { scope } = named;
  const metric = metricOf(named.name);
  if (metric === undefined) return `unknown metric ${JSON.stringify(match[1])} (expected one of: ${knownMetrics.join(', ')})`;
  const operator = match[2] as ThresholdOperator;
  const text = match[3] ?? '';
  if (latencyMetrics.has(metric)) {
    const ms = /^\d+(\.\d+)?$/.test(text) ? undefined : parseDurationMs(text);
    if (ms === undefined) return `${metric} needs a duration with a unit such as "50ms", got ${JSON.stringify(text)}`;
    return { source, metric, scope, operator, value: ms, percent: false };
  }
  if (scope !== 'latency') return `${scope}.${metric}: only percentiles, min, mean and max apply to ${scope} latency`;
  const percent = text.endsWith('%');
  const digits = percent ? text.slice(0, -1) : text;
  const number = /^\d+(\.\d+)?$/.test(digits) ? Number(digits) : Number.NaN;
  if (!Number.isFinite(number)) return `${metric} needs a number${shareMetrics.has(metric) ? ' or a percentage' : ''}, got ${JSON.stringify(text)}`;
  if (percent && !shareMetrics.has(metric)) return `${metric} cannot be a percentage, got ${JSON.stringify(text)}`;
  return { source, metric, scope, operator, value: number, percent };
}

/** Metrics one request's statistics have (summary.byRequest). */
const requestMetrics: ReadonlySet<ThresholdMetric> = new Set([...latencyMetrics, 'errors', 'requests', 'rps']);

/**
 * "requests.login.p99 < 200ms", "requests[\"GET /x\"].errors < 1%": a
 * threshold on one request's statistics. Whether the name exists is checked
 * where the scenario's names are known (request-names.ts).
 */
function requestThreshold(source: string, ref: Exclude<ReturnType<typeof parseRequestRef>, undefined>): Threshold | string {
  if (typeof ref === 'string') return ref;
  const parsed = parseThreshold(ref.rest);
  if (typeof parsed === 'string') return parsed;
  if (parsed.request !== undefined || parsed.scope !== 'latency' || !requestMetrics.has(parsed.metric)) {
    return `${JSON.stringify(ref.rest.trim())}: a request's threshold reads its latency (p50 … p999, min, mean, max), errors, requests or rps`;
  }
  return { ...parsed, source, request: ref.name };
}

/** Whether `actual` satisfies the threshold's comparison. */
export function compare(actual: number, operator: ThresholdOperator, bound: number): boolean {
  switch (operator) {
    case '<': return actual < bound;
    case '<=': return actual <= bound;
    case '>': return actual > bound;
    case '>=': return actual >= bound;
  }
}
