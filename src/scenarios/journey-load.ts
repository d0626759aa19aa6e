import type { Checker } from './checker.js';
import type { IterationArrivals, UsersLoad } from './flow.js';
import { rateOf, stagesOf } from './arrival-rates.js';
import { defaults } from './validate.js';
import { maxUsers, usersLoadOf } from './validate-sessions.js';
import { formatDurationMs, maxDurationMs, maxTimeoutMs } from './units.js';

/** Keys of an open-model journey's `load`. */
const openJourneyKeys = ['rate', 'stages', 'startRate', 'maxDelay', 'users'] as const;
/** An open journey's default users cover iterations that last this much beyond their sleeps. */
const defaultIterationSlackMs = 2000;
const minDefaultUsers = 10;

/**
 * The `load` of an HTTP journey. The closed model (`load.users`, with the
 * ramp of long connections): each user repeats the flow, and the run lasts
 * `duration` in all (ramp included, as k6's `duration`) or the ramp plus
 * `load.hold`. The open model (`load.rate`, or `load.stages` of rates):
 * iterations start at that rate on idle users (`load.users` at most in
 * flight). `sleepMs` is the flow's total think time, for the default users.
 */
export function journeyLoadOf(root: Record<string, unknown>, sleepMs: number, check: Checker): UsersLoad {
  const load = isRecordValue(root.load) ? root.load : undefined;
  const open = load !== undefined && (load.rate !== undefined || (Array.isArray(load.stages) && load.stages.some((stage) => isRecordValue(stage) && stage.rate !== undefined)));
  return open ? openJourneyLoadOf(root, sleepMs, check) : closedJourneyLoadOf(root, check);
}

function closedJourneyLoadOf(root: Record<string, unknown>, check: Checker): UsersLoad {
  const { duration, ...rest } = root;
  if (duration === undefined) return usersLoadOf(rest, check);
  if (isRecordValue(rest.load) && rest.load.hold !== undefined) check.fail(['load', 'hold'], 'give either duration (the whole run) or load.hold (after the ramp), not both', 'key');
  const load = usersLoadOf(rest, check);
  const durationMs = check.duration(duration, ['duration'], { maxMs: maxDurationMs });
  const rampMs = load.durationMs - load.holdMs;
  if (durationMs < rampMs) check.fail(['duration'], `the users' ramp takes ${formatDurationMs(rampMs)}, longer than the run (${formatDurationMs(durationMs)}): lengthen duration or raise load.connectRate`);
  return { ...load, holdMs: durationMs - rampMs, durationMs };
}

/**
 * The open model of a journey. Its users hold no connection, so all start
 * at once and wait idle for arrivals: the users "stage" takes no time.
 * Default users: the peak rate times (the flow's sleeps + 2 s), at least 10
 * — too few shows as dropped iterations, never as server latency.
 */
function openJourneyLoadOf(root: Record<string, unknown>, sleepMs: number, check: Checker): UsersLoad {
  const load = check.mapping(root.load, ['load'], openJourneyKeys);
  if (load.rate !== undefined && load.stages !== undefined) check.fail(['load', 'stages'], 'give either load.rate (constant) or load.stages (ramping), not both', 'key');
  let arrivals: IterationArrivals;
  let durationMs: number;
  if (load.rate !== undefined) {
    const ratePerS = rateOf(load.rate, ['load', 'rate'], check);
    if (ratePerS <= 0) check.fail(['load', 'rate'], 'expected a rate above 0/s');
    if (load.startRate !== undefined) check.fail(['load', 'startRate'], 'only applies with load.stages', 'key');
    durationMs = root.duration === undefined ? defaults.durationMs : check.duration(root.duration, ['duration'], { maxMs: maxDurationMs });
    arrivals = { startRatePerS: ratePerS, stages: [{ durationMs, ratePerS }], maxDelayMs: maxDelayOf(load.maxDelay, check) };
  } else {
    if (root.duration !== undefined) check.fail(['duration'], 'not allowed with load.stages: the stages\' durations add up to the run\'s length', 'key');
    const stages = stagesOf(load.stages, check);
    durationMs = stages.reduce((sum, stage) => sum + stage.durationMs, 0);
    arrivals = { startRatePerS: load.startRate === undefined ? 0 : rateOf(load.startRate, ['load', 'startRate'], check), stages, maxDelayMs: maxDelayOf(load.maxDelay, check) };
  }
  const peakPerS = Math.max(arrivals.startRatePerS, ...arrivals.stages.map((stage) => stage.ratePerS));
  const users = load.users === undefined
    ? Math.min(maxUsers, Math.max(minDefaultUsers, Math.ceil((peakPerS * (sleepMs + defaultIterationSlackMs)) / 1000)))
    : check.integer(load.users, ['load', 'users'], 1, maxUsers);
  return { model: 'users', users, stages: [{ durationMs: 0, users }], holdMs: durationMs, durationMs, arrivals };
}

function maxDelayOf(value: unknown, check: Checker): number {
  return value === undefined ? defaults.maxDelayMs : check.duration(value, ['load', 'maxDelay'], { maxMs: maxTimeoutMs });
}

function isRecordValue(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
