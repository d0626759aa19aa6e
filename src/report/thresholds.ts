import { compare } from '../scenarios/threshold.js';
import type { Threshold } from '../scenarios/scenario.js';
import type { LatencySummaryMs } from '../metrics/histogram.js';
import type { RequestSummary } from './request-summary.js';
import type { Summary } from './result.js';

export interface ThresholdResult {
  readonly threshold: string;
  readonly ok: boolean;
  /** The measured value, in the threshold's unit (ms, count, % or req/s). */
  readonly actual: number;
  readonly unit: 'ms' | '%' | 'count' | 'req/s';
}

/**
 * Evaluates thresholds on the merged summary. Pure. A metric the run does
 * not have (`lost`, `disconnects` or `neverStarted` in an HTTP run,
 * `dropped` in the closed model) reads 0, as does a share of nothing.
 */
export function evaluateThresholds(thresholds: readonly Threshold[], summary: Summary): ThresholdResult[] {
  return thresholds.map((threshold) => {
    const { actual, unit } = measure(threshold, summary);
    return { threshold: threshold.source, ok: compare(actual, threshold.operator, threshold.value), actual, unit };
  });
}

function latencyOf(threshold: Threshold, summary: Summary): LatencySummaryMs | undefined {
  switch (threshold.scope) {
    case 'latency':
      return summary.latencyMs;
    case 'delivery':
      return summary.broadcast?.latencyMs;
    case 'connect':
      return summary.connectMs;
    case 'reply':
      return summary.replyMs;
  }
}

function measure(threshold: Threshold, summary: Summary): { actual: number; unit: ThresholdResult['unit'] } {
  if (threshold.request !== undefined) return measureRequest(threshold, summary);
  switch (threshold.metric) {
    case 'saturated':
      return { actual: saturatedAgents(summary), unit: 'count' };
    case 'rps':
      return { actual: summary.rps, unit: 'req/s' };
    case 'requests':
      return { actual: summary.requests, unit: 'count' };
    case 'errors':
      return threshold.percent
        ? { actual: summary.errorRate * 100, unit: '%' }
        : { actual: summary.errors.total, unit: 'count' };
    case 'dropped': {
      const dropped = summary.arrivals?.dropped ?? 0;
      const scheduled = summary.arrivals?.scheduled ?? 0;
      return threshold.percent
        ? { actual: scheduled > 0 ? (dropped / scheduled) * 100 : 0, unit: '%' }
        : { actual: dropped, unit: 'count' };
    }
    case 'lost': {
      const lost = summary.broadcast?.lost ?? 0;
      const expected = summary.broadcast?.expected ?? 0;
      return threshold.percent
        ? { actual: expected > 0 ? (lost / expected) * 100 : 0, unit: '%' }
        : { actual: lost, unit: 'count' };
    }
    case 'disconnects': {
      const disconnects = summary.connections?.disconnects ?? 0;
      const opened = summary.connections?.opened ?? 0;
      return threshold.percent
        ? { actual: opened > 0 ? (disconnects / opened) * 100 : 0, unit: '%' }
        : { actual: disconnects, unit: 'count' };
    }
    case 'neverStarted': {
      // Users never started are not failures (the server never saw them), so no error threshold reads them: this one does.
      const neverStarted = summary.connections?.neverStarted ?? 0;
      const users = summary.connections?.users ?? 0;
      return threshold.percent
        ? { actual: users > 0 ? (neverStarted / users) * 100 : 0, unit: '%' }
        : { actual: neverStarted, unit: 'count' };
    }
    default:
      return { actual: latencyOf(threshold, summary)?.[threshold.metric] ?? 0, unit: 'ms' };
  }
}

/**
 * A threshold on one request. A run with one request name keeps no
 * breakdown (validation made sure the name exists): its totals are that
 * request's.
 */
function measureRequest(threshold: Threshold, summary: Summary): { actual: number; unit: ThresholdResult['unit'] } {
  const entry: Pick<RequestSummary, 'requests' | 'rps' | 'errorRate' | 'latencyMs'> & { errors: number } = summary.byRequest?.[threshold.request ?? '']
    ?? { requests: summary.requests, rps: summary.rps, errors: summary.errors.total, errorRate: summary.errorRate, latencyMs: summary.latencyMs };
  switch (threshold.metric) {
    case 'rps':
      return { actual: entry.rps, unit: 'req/s' };
    case 'requests':
      return { actual: entry.requests, unit: 'count' };
    case 'errors':
      return threshold.percent ? { actual: entry.errorRate * 100, unit: '%' } : { actual: entry.errors, unit: 'count' };
    case 'p50': case 'p75': case 'p90': case 'p95': case 'p99': case 'p999': case 'min': case 'mean': case 'max':
      return { actual: entry.latencyMs[threshold.metric], unit: 'ms' };
    default:
      // parseThreshold refuses other metrics on a request.
      return { actual: 0, unit: 'count' };
  }
}

/**
 * Agents spear's own verdict found saturated. A result written before spear
 * judged itself has no verdict: 0, as for other metrics a run lacks.
 */
function saturatedAgents(summary: Summary): number {
  const verdict = (summary as Partial<Summary>).generator;
  return verdict === undefined ? 0 : verdict.agents.length;
}
