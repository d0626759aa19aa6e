import type { UsersLoad } from '../scenarios/flow.js';

/**
 * How many users (global count) should have started `elapsedMs` after the
 * start: stages move the target linearly from the previous stage's count
 * (0 at the start); after the last stage it stays there. Pure.
 */
export function targetUsersAt(load: UsersLoad, elapsedMs: number): number {
  let from = 0;
  let stageStart = 0;
  for (const stage of load.stages) {
    const stageEnd = stageStart + stage.durationMs;
    if (elapsedMs < stageEnd) {
      const progress = stage.durationMs <= 0 ? 1 : (elapsedMs - stageStart) / stage.durationMs;
      return Math.floor(from + (stage.users - from) * progress + 1e-9);
    }
    from = stage.users;
    stageStart = stageEnd;
  }
  return from;
}
