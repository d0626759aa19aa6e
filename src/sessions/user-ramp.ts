import type { UsersLoad } from '../scenarios/flow.js';
import { UserAssignment } from '../scenarios/user-assignment.js';

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

/**
 * How many of an agent's `localUsers` the ramp wants started when the
 * global target is `target`: those of its users whose global index is
 * below it (user-assignment.ts; agentId + k·agentCount without
 * `userWeights`). Pure; allocates nothing once the plan's weights were seen.
 */
export function localTarget(target: number, agentId: number, agentCount: number, localUsers: number, userWeights?: readonly number[]): number {
  return Math.min(localUsers, UserAssignment.of(agentCount, userWeights).usersOf(agentId, target));
}

/**
 * Users to start in one slice: what is due (`wanted` − `started`), no more
 * than the free handshake slots, and never more than `slice`, however late
 * the tick that asks (a timer that fires seconds late must not start
 * thousands of users in one loop turn). Pure.
 */
export function dueSlice(wanted: number, started: number, freeSlots: number, slice: number): number {
  return Math.max(0, Math.min(wanted - started, freeSlots, slice));
}
