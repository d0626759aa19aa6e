import { badStatuses, transportErrors } from '../metrics/counters.js';
import { createHistogram, encodeHistogram, summarizeMs, type LatencySummaryMs } from '../metrics/histogram.js';
import type { RequestMerger } from '../metrics/request-merger.js';
import type { RequestCounters } from '../wire/messages.js';

/** One request name's statistics over the run (`summary.byRequest[name]`). */
export interface RequestSummary {
  /** Responses received, whatever their status. */
  readonly requests: number;
  /** `requests / durationS`. */
  readonly rps: number;
  /** Failed exchanges plus responses that were not 2xx/3xx. */
  readonly errors: number;
  /** `errors / (requests + failed exchanges)`, 0..1; 0 when nothing was attempted. */
  readonly errorRate: number;
  readonly statusCodes: Record<string, number>;
  /** Failed exchanges per "kind:CODE". */
  readonly errorCodes: Record<string, number>;
  /** Corrected latency of this request's responses (from the intended send, as `summary.latencyMs`). */
  readonly latencyMs: LatencySummaryMs;
}

/** One request name's counts in one interval (`timeline[].byRequest[name]`). */
export interface RequestTick {
  readonly requests: number;
  /** Failed exchanges plus responses that were not 2xx/3xx. */
  readonly errors: number;
}

/**
 * `summary.byRequest` and the merged per-request histograms
 * (`requestHistograms`), by name; undefined when the run kept no
 * per-request statistics (one name, or more than spear breaks down).
 * Pure apart from encoding histograms.
 */
export function summarizeRequests(
  names: readonly string[], merger: RequestMerger, durationS: number,
): { byRequest: Record<string, RequestSummary>; histograms: Record<string, string> } | undefined {
  if (merger.totals.length === 0) return undefined;
  const byRequest: Record<string, RequestSummary> = {};
  const histograms: Record<string, string> = {};
  names.forEach((name, index) => {
    const counters = merger.totals[index];
    const histogram = merger.latency[index] ?? createHistogram();
    const { failed, errors } = errorsOf(counters);
    const requests = counters?.requests ?? 0;
    const attempts = requests + failed;
    byRequest[name] = {
      requests,
      rps: durationS > 0 ? requests / durationS : 0,
      errors,
      errorRate: attempts > 0 ? errors / attempts : 0,
      statusCodes: { ...counters?.statuses },
      errorCodes: { ...counters?.errors },
      latencyMs: summarizeMs(histogram),
    };
    histograms[name] = encodeHistogram(histogram);
  });
  return { byRequest, histograms };
}

/** `timeline[].byRequest`: one interval's per-request counts, by name. */
export function requestTicks(names: readonly string[], counters: readonly RequestCounters[]): Record<string, RequestTick> {
  const ticks: Record<string, RequestTick> = {};
  names.forEach((name, index) => {
    const entry = counters[index];
    ticks[name] = { requests: entry?.requests ?? 0, errors: errorsOf(entry).errors };
  });
  return ticks;
}

/** Failed exchanges, and every error (failures plus bad statuses), read with the run totals' rules. */
function errorsOf(counters: RequestCounters | undefined): { failed: number; errors: number } {
  if (counters === undefined) return { failed: 0, errors: 0 };
  const failed = transportErrors(counters);
  return { failed, errors: failed + badStatuses(counters) };
}
