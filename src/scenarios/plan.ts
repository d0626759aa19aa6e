import type { HttpRequestSpec, LoadProfile, Scenario, Timeouts } from './scenario.js';

/** One agent's share of the run: everything it needs, nothing it doesn't. JSON-safe. */
export interface AgentPlan {
  readonly agentId: number;
  readonly agentCount: number;
  readonly target: string;
  readonly requests: readonly HttpRequestSpec[];
  readonly load: LoadProfile;
  readonly timeouts: Timeouts;
  readonly intervalMs: number;
}

/**
 * Splits a scenario over `agentCount` agents. Connections are divided as
 * evenly as integers allow and rates in proportion to each agent's
 * connections, so every connection carries the same load. Never plans an
 * agent with no connection: fewer agents are used instead. Pure.
 */
export function planAgents(scenario: Scenario, agentCount: number): AgentPlan[] {
  const total = scenario.load.connections;
  const count = Math.max(1, Math.min(agentCount, total));
  const plans: AgentPlan[] = [];
  for (let agentId = 0; agentId < count; agentId += 1) {
    const connections = Math.floor(total / count) + (agentId < total % count ? 1 : 0);
    plans.push({
      agentId,
      agentCount: count,
      target: scenario.target,
      requests: scenario.requests,
      load: sliceLoad(scenario.load, connections, connections / total),
      timeouts: scenario.timeouts,
      intervalMs: scenario.intervalMs,
    });
  }
  return plans;
}

function sliceLoad(load: LoadProfile, connections: number, share: number): LoadProfile {
  if (load.model === 'closed') return { ...load, connections };
  return {
    ...load,
    connections,
    startRatePerS: load.startRatePerS * share,
    stages: load.stages.map((stage) => ({ durationMs: stage.durationMs, ratePerS: stage.ratePerS * share })),
  };
}
