import { fdReserve } from '../agents/fd-limit.js';
import type { Scenario } from '../scenarios/scenario.js';

/** How many local agents a run gets when the user named none, and why (what `spear validate` prints). */
export interface AgentCount {
  readonly count: number;
  /** One line, e.g. "6 agents: 100,000 users / 19,936 per agent (open-file limit 20,000)". */
  readonly reason: string;
}

/** Connections a scenario holds at once over all agents: HTTP connections, or long-connection users. */
function heldConnections(scenario: Scenario): { readonly count: number; readonly noun: string } {
  if (scenario.protocol === 'http') return { count: scenario.load.connections, noun: 'connections' };
  // An HTTP journey's users share each agent's pool: at most 256 connections per agent, never one per user.
  if (scenario.protocol === 'http-flow') return { count: 0, noun: 'users' };
  return { count: scenario.load.users, noun: 'users' };
}

/**
 * Local agents for a run with no agent count given: one per core, or more
 * when the connections held at once do not fit in that many processes'
 * descriptors (each process may hold the hard open-file limit minus a
 * reserve; one host past ~20k sockets needs several processes).
 * `budgetPerAgent` overrides the descriptor budget (tests). Pure.
 */
export function plannedAgentCount(scenario: Scenario, cores: number, fdLimit: number | null, budgetPerAgent?: number): AgentCount {
  const held = heldConnections(scenario);
  const budget = budgetPerAgent ?? (fdLimit === null ? null : Math.max(1, fdLimit - fdReserve));
  const perCore = `${cores} agent${cores === 1 ? '' : 's'}: one per core`;
  if (budget === null || held.count <= budget * cores) return { count: cores, reason: perCore };
  const count = Math.ceil(held.count / budget);
  const limit = budgetPerAgent === undefined && fdLimit !== null ? ` (open-file limit ${fdLimit.toLocaleString('en-US')})` : ' (test budget)';
  return {
    count,
    reason: `${count} agents: ${held.count.toLocaleString('en-US')} ${held.noun} / ${budget.toLocaleString('en-US')} per agent${limit}`,
  };
}

/** A per-agent budget a test asked for (SPEAR_TEST_AGENT_BUDGET), so a small run needs several agents; undefined normally. */
export function testAgentBudget(environment: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = Number(environment.SPEAR_TEST_AGENT_BUDGET ?? '');
  return Number.isInteger(value) && value > 0 ? value : undefined;
}
