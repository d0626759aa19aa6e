import type { Checker, DocPath } from './checker.js';
import type { Stage } from './scenario.js';
import { formatDurationMs, maxDurationMs, maxRatePerS, parseRatePerS } from './units.js';

/** Keys of one open-model stage. */
export const stageKeys = ['duration', 'rate'] as const;

const rateText = '"<number>/s"';

/** An arrival rate such as "200/s", at most maxRatePerS. */
export function rateOf(value: unknown, path: DocPath, check: Checker): number {
  const ratePerS = check.parsed(value, path, rateText, parseRatePerS);
  if (ratePerS > maxRatePerS) check.fail(path, `expected a rate of at most ${maxRatePerS}/s, got ${JSON.stringify(value)}`);
  return ratePerS;
}

/** `load.stages` of an open model: each ramps the arrival rate linearly; at least one, not all 0/s, within a run's length. */
export function stagesOf(value: unknown, check: Checker): Stage[] {
  const items = check.list(value, ['load', 'stages']);
  if (items.length === 0) check.fail(['load', 'stages'], 'expected at least one stage');
  const stages = items.map((item, index): Stage => {
    const path = ['load', 'stages', index];
    const record = check.mapping(item, path, stageKeys);
    if (record.duration === undefined) check.fail(path, 'missing duration');
    if (record.rate === undefined) check.fail(path, 'missing rate');
    return { durationMs: check.duration(record.duration, [...path, 'duration']), ratePerS: rateOf(record.rate, [...path, 'rate'], check) };
  });
  if (stages.every((stage) => stage.ratePerS === 0)) check.fail(['load', 'stages'], 'every stage has rate 0/s: nothing would be sent');
  const totalMs = stages.reduce((sum, stage) => sum + stage.durationMs, 0);
  if (totalMs > maxDurationMs) check.fail(['load', 'stages'], `the stages add up to ${formatDurationMs(totalMs)}; a run lasts at most ${formatDurationMs(maxDurationMs)}`);
  return stages;
}
