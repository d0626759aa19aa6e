import type { AgentPlan } from './plan.js';
import { weightedShares } from './user-assignment.js';

/**
 * Splits a scenario's `connection.sourceAddresses` over the run's agents
 * (all of them, in agent-id order: dialed, joined, then local ones), one
 * list per agent; an agent's users take its list round-robin by local slot.
 *
 * - At least as many addresses as agents: disjoint, contiguous blocks, one
 *   address each first and the rest in proportion to the user weights
 *   (`units`, undefined: equal), so no two agents share a source port range.
 * - Fewer addresses than agents: every agent gets every address, rotated to
 *   start at address agentId mod n, so the agents share the ranges evenly
 *   (the port preflight then sums the users of every agent per address).
 * - None: every agent gets none (the system chooses).
 *
 * A remote agent started with `spear agent --source-addresses` replaces its
 * list with its own host's addresses (`withSourceAddresses`). Pure.
 */
export function splitSourceAddresses(addresses: readonly string[], agentCount: number, units?: readonly number[]): string[][] {
  const count = addresses.length;
  if (count === 0) return Array.from({ length: agentCount }, () => []);
  if (count < agentCount) {
    return Array.from({ length: agentCount }, (_, agentId) => {
      const start = agentId % count;
      return [...addresses.slice(start), ...addresses.slice(0, start)];
    });
  }
  const extra = weightedShares(count - agentCount, Array.from({ length: agentCount }, (_, index) => units?.[index] ?? 1));
  const lists: string[][] = [];
  let next = 0;
  for (const share of extra) {
    lists.push(addresses.slice(next, next + share + 1));
    next += share + 1;
  }
  return lists;
}

/** The source address of an agent's local user `slot`: its list round-robin; undefined when the list is empty. */
export function sourceAddressOf(addresses: readonly string[], slot: number): string | undefined {
  return addresses.length === 0 ? undefined : addresses[slot % addresses.length];
}

/**
 * `plan` with this agent's own source addresses (`spear agent
 * --source-addresses`) in place of the part of the scenario's list the
 * coordinator gave it; HTTP plans, and any plan when `addresses` is
 * undefined, unchanged. Pure.
 */
export function withSourceAddresses(plan: AgentPlan, addresses: readonly string[] | undefined): AgentPlan {
  if (addresses === undefined || plan.protocol === 'http') return plan;
  return { ...plan, connection: { ...plan.connection, sourceAddresses: addresses } };
}
