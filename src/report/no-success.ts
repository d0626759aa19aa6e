import { hintFor, parseErrorKey } from '../metrics/error-kind.js';
import type { Scenario } from '../scenarios/scenario.js';
import { formatDurationMs } from '../scenarios/units.js';
import type { RunResult } from './result.js';

/**
 * What counts as one success when spear asks "did anything work at all?":
 * a response, whatever its status, in request runs and HTTP journeys; a
 * user connected in ws/socketio runs (a ticket response is not enough).
 */
export type SuccessMeasure = 'responses' | 'connects';

export function successMeasureOf(scenario: Pick<Scenario, 'protocol'>): SuccessMeasure {
  return scenario.protocol === 'ws' || scenario.protocol === 'socketio' ? 'connects' : 'responses';
}

/** What failed so far, as the reason line reads it. Counts by "kind:CODE" and by status. */
export interface FailureCounts {
  readonly errors: Readonly<Record<string, number>>;
  readonly statuses: Readonly<Record<string, number>>;
  /** First message per "kind:CODE": shown when spear has no hint for the code. */
  readonly samples?: Readonly<Record<string, string>> | undefined;
}

/**
 * One line naming the most frequent failure and its cause:
 * `no request succeeded: 1,234 connect:ECONNREFUSED (nothing listens …)`.
 * Pure.
 */
export function noSuccessReason(measure: SuccessMeasure, counts: FailureCounts): string {
  const what = measure === 'responses' ? 'no request succeeded' : 'no user connected';
  const errors = Object.entries(counts.errors).filter(([, count]) => count > 0).sort((a, b) => b[1] - a[1]);
  const top = errors[0];
  if (top !== undefined) {
    const [key, count] = top;
    const cause = hintFor(parseErrorKey(key).code) ?? counts.samples?.[key];
    const others = errors.slice(1).reduce((sum, [, each]) => sum + each, 0);
    return `${what}: ${thousands(count)} ${key}${cause === undefined ? '' : ` (${cause})`}${others > 0 ? `; ${thousands(others)} other errors` : ''}`;
  }
  // Only a ws/socketio run gets here with responses: its flow's http steps answered, but nobody connected.
  const statuses = Object.entries(counts.statuses).filter(([, count]) => count > 0).sort((a, b) => b[1] - a[1]);
  if (statuses.length > 0) return `${what}: ${statuses.map(([status, count]) => `${thousands(count)} HTTP ${status} responses`).join(', ')}`;
  return `${what}: no response and no error before the run ended (a server that never answers within timeouts.request?)`;
}

/** Why a finished run earns exit code 7 (nothing succeeded), or undefined when something did. Pure. */
export function noSuccessOf(result: RunResult): string | undefined {
  const measure = successMeasureOf(result.scenario);
  const { summary } = result;
  const successes = measure === 'responses' ? summary.requests : summary.connections?.opened ?? 0;
  if (successes > 0) return undefined;
  return noSuccessReason(measure, { errors: summary.errorCodes, statuses: summary.statusCodes, samples: summary.errorSamples });
}

/**
 * The line `spear run` prints (after the summary) for exit code 7, or
 * undefined when the run earned no 7: aborted runs say when and why.
 */
export function noSuccessLine(result: RunResult): string | undefined {
  const reason = noSuccessOf(result);
  const { aborted } = result;
  if (aborted === undefined) return reason;
  return `run stopped after ${(aborted.afterMs / 1000).toFixed(1)}s (abortOnFail: ${formatDurationMs(aborted.abortOnFailMs)}; --abort-on-fail off runs on): ${reason ?? aborted.reason}`;
}

function thousands(count: number): string {
  return count.toLocaleString('en-US');
}
