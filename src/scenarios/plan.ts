import type { HttpScenario, LoadProfile, Scenario, SessionScenario, TargetTls, Timeouts } from './scenario.js';

/** What every agent's share of a run has. JSON-safe. */
interface PlanBase {
  readonly agentId: number;
  readonly agentCount: number;
  readonly target: string;
  readonly timeouts: Timeouts;
  readonly intervalMs: number;
  /**
   * Target TLS settings with the PEM texts the coordinator read (agents have
   * no files); absent when the scenario sets none. `targetTlsOptions` in
   * src/protocols/target-tls.ts turns them into tls.connect options.
   */
  readonly tls?: TargetTls;
}

/** One agent's share of an HTTP run: its connections and its part of the rate. */
/** The scenario parts every agent of a session run receives whole. */
type SessionParts = 'protocol' | 'load' | 'flow' | 'groups' | 'reconnect' | 'broadcast' | 'connection' | 'socketio' | 'feeder';

export interface HttpPlan extends PlanBase, Pick<HttpScenario, 'protocol' | 'requests'> {
  /** This agent's connections and share of the rate. */
  readonly load: LoadProfile;
}

/**
 * One agent's share of a long-connection run. `load` is the whole run's
 * (global user counts): this agent holds the users whose index i satisfies
 * i mod agentCount = agentId, so every group and the connect rate spread
 * evenly over agents.
 */
export interface SessionPlan extends PlanBase, Pick<SessionScenario, SessionParts> {}

export type AgentPlan = HttpPlan | SessionPlan;

/**
 * Splits a scenario over `agentCount` agents; never plans an agent with
 * nothing to do. `weights` (one per agent, default 1) give HTTP agents
 * proportional shares of connections and rate. Pure.
 */
export function planAgents(scenario: Scenario, agentCount: number, weights?: readonly number[]): AgentPlan[] {
  return scenario.protocol === 'http' ? planHttp(scenario, agentCount, weights) : planSessions(scenario, agentCount);
}

/** Integer shares of `total` in proportion to `weights` (largest remainder, ties to the first). */
export function weightedShares(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((weight) => (total * weight) / sum);
  const shares = exact.map(Math.floor);
  let left = total - shares.reduce((a, b) => a + b, 0);
  const order = exact.map((value, index) => [value - Math.floor(value), index] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, index] of order) {
    if (left === 0) break;
    shares[index]! += 1;
    left -= 1;
  }
  return shares;
}

/** Most pooled connections an HTTP journey's agent opens per origin (user-fleet.ts caps its pool there). */
const journeyPoolConnections = 256;

/** Connections (or users) an agent's plan holds at most. An HTTP journey's users share a pool. */
export function connectionsOf(plan: AgentPlan): number {
  if (plan.protocol === 'http') return plan.load.connections;
  if (plan.protocol === 'http-flow') return Math.min(journeyPoolConnections, usersOfAgent(plan.load.users, plan.agentId, plan.agentCount));
  return usersOfAgent(plan.load.users, plan.agentId, plan.agentCount);
}

/** How many of `users` global users agent `agentId` of `agentCount` holds. */
export function usersOfAgent(users: number, agentId: number, agentCount: number): number {
  return Math.floor(users / agentCount) + (agentId < users % agentCount ? 1 : 0);
}

/**
 * Connections are divided as evenly as integers allow and rates in
 * proportion to each agent's connections, so every connection carries the
 * same load.
 */
function planHttp(scenario: HttpScenario, agentCount: number, weights: readonly number[] | undefined): HttpPlan[] {
  const total = scenario.load.connections;
  const count = Math.max(1, Math.min(agentCount, total));
  // One connection each first, so no agent idles; the rest by weight.
  const extra = weightedShares(total - count, Array.from({ length: count }, (_, index) => weights?.[index] ?? 1));
  const shares = extra.map((share) => share + 1);
  const plans: HttpPlan[] = [];
  for (let agentId = 0; agentId < count; agentId += 1) {
    const connections = shares[agentId]!;
    plans.push({
      agentId,
      agentCount: count,
      target: scenario.target,
      timeouts: scenario.timeouts,
      intervalMs: scenario.intervalMs,
      ...tlsOf(scenario),
      protocol: 'http',
      requests: scenario.requests,
      load: sliceLoad(scenario.load, connections, connections / total),
    });
  }
  return plans;
}

function planSessions(scenario: SessionScenario, agentCount: number): SessionPlan[] {
  const count = Math.max(1, Math.min(agentCount, scenario.load.users));
  const plans: SessionPlan[] = [];
  for (let agentId = 0; agentId < count; agentId += 1) {
    plans.push({
      agentId,
      agentCount: count,
      target: scenario.target,
      timeouts: scenario.timeouts,
      intervalMs: scenario.intervalMs,
      ...tlsOf(scenario),
      protocol: scenario.protocol,
      load: scenario.load,
      flow: scenario.flow,
      groups: scenario.groups,
      reconnect: scenario.reconnect,
      broadcast: scenario.broadcast,
      connection: scenario.connection,
      socketio: scenario.socketio,
      feeder: scenario.feeder === undefined ? undefined : { ...scenario.feeder, rows: agentFeederRows(scenario.feeder.rows, agentId, count, usersOfAgent(scenario.load.users, agentId, count)) },
    });
  }
  return plans;
}

/**
 * The feeder rows one agent needs, by local user slot: user i (slot
 * ⌊i / agentCount⌋ on agent i mod agentCount) reads row i mod R of the file,
 * and an agent's rows repeat every R / gcd(agentCount, R) slots, so it gets
 * at most that many (and no more than it has users), never the whole file.
 * The agent reads slot j's row at j mod the length shipped.
 */
export function agentFeederRows<Row>(rows: readonly Row[], agentId: number, agentCount: number, localUsers: number): Row[] {
  if (rows.length === 0) return [];
  const period = rows.length / greatestCommonDivisor(agentCount, rows.length);
  const count = Math.max(1, Math.min(localUsers, period));
  const slice: Row[] = [];
  for (let slot = 0; slot < count; slot += 1) slice.push(rows[(agentId + slot * agentCount) % rows.length]!);
  return slice;
}

function greatestCommonDivisor(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** `{ tls }` when the scenario has TLS settings; nothing otherwise (plans then carry no tls key). */
function tlsOf(scenario: Scenario): { tls?: TargetTls } {
  return scenario.tls === undefined ? {} : { tls: scenario.tls };
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
