import { badStatuses } from '../metrics/counters.js';
import { errorKinds, hintFor, parseErrorKey, type ErrorKind } from '../metrics/error-kind.js';
import { summarizeMs, type LatencySummaryMs } from '../metrics/histogram.js';
import type { RunMerger } from '../metrics/merger.js';
import type { GeneratorVerdict } from '../metrics/generator-verdict.js';
import type { Scenario } from '../scenarios/scenario.js';
import type { IntervalCounters } from '../wire/messages.js';
import type { BroadcastResult, ConnectionSummary } from './session-summary.js';
import type { RequestSummary } from './request-summary.js';

/** Errors by kind, as `summary.errors` holds them. */
export type ErrorCounts = Record<ErrorKind | 'status' | 'total', number>;

/** The whole run's totals (`summary`; docs/result-format.md). Percentiles only from merged histograms. */
export interface Summary {
  readonly model: 'closed' | 'open' | 'users';
  /** Start barrier to the last agent's last interval, seconds. */
  readonly durationS: number;
  /** Responses received, whatever their status. */
  readonly requests: number;
  readonly rps: number;
  readonly bytesRead: number;
  readonly transferPerS: number;
  /** Corrected latency: from the intended send (open model) or the actual send (closed). */
  readonly latencyMs: LatencySummaryMs;
  /** Uncorrected: from the actual send. Equals latencyMs in the closed model. */
  readonly serviceTimeMs: LatencySummaryMs;
  /** Exchanges that failed, by kind; `status` counts responses that were not 2xx/3xx. */
  readonly errors: ErrorCounts;
  /** Share of attempts (responses + failed exchanges) that were errors, 0..1. */
  readonly errorRate: number;
  /** Failed exchanges per "kind:CODE". */
  readonly errorCodes: Record<string, number>;
  /** One message per "kind:CODE" (the first seen), up to 64: the cause in the words of whoever failed. Absent in older result files. */
  readonly errorSamples?: Record<string, string> | undefined;
  readonly statusCodes: Record<string, number>;
  /**
   * Open model only: arrivals scheduled and dropped (no free connection, or
   * in a journey no idle user, within maxDelay). `droppedWhileSaturated`:
   * those dropped by an agent in an interval it was saturated in, which
   * spear may have caused (absent in older result files).
   */
  readonly arrivals: { readonly scheduled: number; readonly dropped: number; readonly droppedWhileSaturated?: number } | undefined;
  /** Most connections open at once, summed over agents. */
  readonly maxConnections: number;
  /** Cause and fix for the error codes seen, one line each. */
  readonly hints: readonly string[];
  /** spear's verdict on itself: whether an agent was the bottleneck, where and why. Always present. */
  readonly generator: GeneratorVerdict;
  /**
   * Time exchanges waited inside spear before they left (flow `http` steps
   * waiting for a pooled connection, users waiting for a handshake slot);
   * never part of any latency above. count 0 when nothing queued.
   */
  readonly queueMs: LatencySummaryMs;
  /** Long-connection runs only: connections opened, failed, dropped, reconnected. */
  readonly connections?: ConnectionSummary | undefined;
  /** Long-connection runs only: TCP + upgrade + Socket.IO handshake. */
  readonly connectMs?: LatencySummaryMs | undefined;
  /** Long-connection runs only: from an emit/send to its ack or awaited reply. */
  readonly replyMs?: LatencySummaryMs | undefined;
  readonly messages?: { readonly sent: number; readonly received: number } | undefined;
  /** Runs whose flow sends stamped broadcasts: delivery accounting across agents. */
  readonly broadcast?: BroadcastResult | undefined;
  /**
   * Per-request statistics by request name (`requests[].name`, flow `http`
   * step names): only in runs with more than one name (and at most
   * maxRequestBreakdown). Absent in older result files.
   */
  readonly byRequest?: Readonly<Record<string, RequestSummary>> | undefined;
}

/** The run's totals (`summary`) before the long-connection and per-request parts. Pure apart from reading histograms. */
export function summarize(scenario: Scenario, merger: RunMerger, durationS: number, generator: GeneratorVerdict): Summary {
  const totals = merger.totals;
  const errors = errorCounts(totals);
  const attempts = totals.requests + errors.total - errors.status;
  const perSecond = (count: number): number => (durationS > 0 ? count / durationS : 0);
  return {
    model: scenario.load.model === 'users' && scenario.load.arrivals !== undefined ? 'open' : scenario.load.model,
    durationS,
    requests: totals.requests,
    rps: perSecond(totals.requests),
    bytesRead: totals.bytesRead,
    transferPerS: perSecond(totals.bytesRead),
    latencyMs: merger.latencyMs(),
    serviceTimeMs: summarizeMs(merger.serviceTime),
    errors,
    errorRate: attempts > 0 ? errors.total / attempts : 0,
    errorCodes: { ...totals.errors },
    errorSamples: { ...totals.errorSamples },
    statusCodes: { ...totals.statuses },
    arrivals: scenario.load.model === 'open' || (scenario.load.model === 'users' && scenario.load.arrivals !== undefined) ? { scheduled: totals.scheduled, dropped: totals.dropped, droppedWhileSaturated: merger.droppedWhileSaturated } : undefined,
    maxConnections: merger.maxConnections,
    hints: hintsFor(totals),
    generator,
    queueMs: summarizeMs(merger.queue),
  };
}

function errorCounts(counters: IntervalCounters): ErrorCounts {
  const counts = { connect: 0, read: 0, write: 0, timeout: 0, handshake: 0, disconnect: 0, flow: 0, check: 0, other: 0, status: badStatuses(counters), total: 0 };
  for (const [key, count] of Object.entries(counters.errors)) counts[parseErrorKey(key).kind] += count;
  counts.total = errorKinds.reduce((sum, kind) => sum + counts[kind], counts.status);
  return counts;
}

function hintsFor(counters: IntervalCounters): string[] {
  const hints = new Set<string>();
  for (const key of Object.keys(counters.errors)) {
    const { code } = parseErrorKey(key);
    const hint = hintFor(code);
    if (hint !== undefined) hints.add(`${code}: ${hint}`);
  }
  return [...hints];
}
