import type { RunResult } from './result.js';

/**
 * The normalized summary of a run (`spear report --format json`): metadata,
 * summary, thresholds and per-agent rows, without histograms or timeline.
 */
export function renderSummaryJson(result: RunResult): string {
  const { name, startedAt, endedAt, partial, interrupted, spearVersion, summary, thresholds, agents } = result;
  return `${JSON.stringify({ format: 'spear-summary', version: result.version, spearVersion, name, startedAt, endedAt, partial, interrupted, target: result.scenario.target, protocol: result.scenario.protocol, summary, thresholds, agents }, null, 2)}\n`;
}
