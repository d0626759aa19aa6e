import { compare } from '../scenarios/threshold.js';
import type { Threshold } from '../scenarios/scenario.js';
import type { Summary } from './result.js';

export interface ThresholdResult {
  readonly threshold: string;
  readonly ok: boolean;
  /** The measured value, in the threshold's unit (ms, count, % or req/s). */
  readonly actual: number;
  readonly unit: 'ms' | '%' | 'count' | 'req/s';
}

/** Evaluates thresholds on the merged summary. Pure. */
export function evaluateThresholds(thresholds: readonly Threshold[], summary: Summary): ThresholdResult[] {
  return thresholds.map((threshold) => {
    const { actual, unit } = measure(threshold, summary);
    return { threshold: threshold.source, ok: compare(actual, threshold.operator, threshold.value), actual, unit };
  });
}

function measure(threshold: Threshold, summary: Summary): { actual: number; unit: ThresholdResult['unit'] } {
  switch (threshold.metric) {
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
    default:
      return { actual: summary.latencyMs[threshold.metric], unit: 'ms' };
  }
}
