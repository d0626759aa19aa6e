import { fdReserve, fdsNeeded, readFdLimit } from '../agents/fd-limit.js';
import { PreflightError } from '../errors.js';
import { connectionsOf, type AgentPlan } from '../scenarios/plan.js';

/**
 * Refuses, before any process starts, a plan that local agents cannot hold:
 * each agent is a process with its own open-file limit (every connection is
 * a descriptor, plus a reserve the agent keeps for itself). The message
 * names the agent count that would fit.
 */
export function preflightLocal(plans: readonly AgentPlan[], fdLimit: number | null = readFdLimit()): void {
  if (fdLimit === null) return;
  const largest = Math.max(...plans.map(connectionsOf));
  const needed = fdsNeeded(largest);
  if (needed <= fdLimit) return;
  const total = plans.reduce((sum, plan) => sum + connectionsOf(plan), 0);
  const perAgent = fdLimit - fdReserve;
  const agentsNeeded = Math.ceil(total / Math.max(1, perAgent));
  throw new PreflightError(
    `${total} connections over ${plans.length} agent${plans.length === 1 ? '' : 's'} need ${needed} open files per agent, but the open-file limit is ${fdLimit}: use --agents ${agentsNeeded} or more (each agent is a process with its own limit), or raise the hard limit (ulimit -Hn)`,
  );
}
