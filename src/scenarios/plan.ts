import type { HttpScenario, LoadProfile, Scenario, SessionScenario, TargetTls, Timeouts } from './scenario.js';
import { splitSourceAddresses } from './source-addresses.js';
import { greatestCommonDivisor, UserAssignment, userWeightUnits, weightedShares } from './user-assignment.js';

export { weightedShares };

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
 * (global user counts): which global users this agent holds is
 * `assignmentOf(plan)` (src/scenarios/user-assignment.ts): i mod agentCount
 * = agentId without weights, interleaved by weight with them, so every
 * group and the connect rate spread over agents. `connection.sourceAddresses`
 * is this agent's part of the scenario's list (see splitSourceAddresses).
 */
export interface SessionPlan extends PlanBase, Pick<SessionScenario, SessionParts> {
  /**
   * Users per period of each agent (reduced whole numbers, one per agent,
   * from `--agent HOST:PORT*W`); absent when every agent weighs the same.
   */
  readonly userWeights?: readonly number[];
}

export type AgentPlan = HttpPlan | SessionPlan;

/**
 * Splits a scenario over `agentCount` agents; never plans an agent with
 * nothing to do. `weights` (one per agent, default 1) give agents
 * proportional shares: of connections and rate (HTTP), of users and source
 * addresses (long connections, journeys). Pure; throws a UsageError for
 * user weights too uneven to interleave (see userWeightUnits).
 */
export function planAgents(scenario: Scenario, agentCount: number, weights?: readonly number[]): AgentPlan[] {
  return scenario.protocol === 'http' ? planHttp(scenario, agentCount, weights) : planSessions(scenario, agentCount, weights);
}

/** Most pooled connections an HTTP journey's agent opens per origin (user-fleet.ts caps its pool there). */
const journeyPoolConnections = 256;

/** Connections (or users) an agent's plan holds at most: its weighted share. An HTTP journey's users share a pool. */
export function connectionsOf(plan: AgentPlan): number {
  if (plan.protocol === 'http') return plan.load.connections;
  const users = usersOfAgent(plan.load.users, plan.agentId, plan.agentCount, plan.userWeights);
  return plan.protocol === 'http-flow' ? Math.min(journeyPoolConnections, users) : users;
}

/** How many of `users` global users agent `agentId` of `agentCount` holds (`userWeights`: the plan's, undefined when equal). */
export function usersOfAgent(users: number, agentId: number, agentCount: number, userWeights?: readonly number[]): number {
  return UserAssignment.of(agentCount, userWeights).usersOf(agentId, users);
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

/**
 * Every agent gets the whole scenario and, with weights, the same
 * `userWeights`; only `agentId`, its source addresses and its feeder rows
 * differ. Agents past the number of users are left out (each planned agent
 * gets at least one user: every period starts with one of each).
 */
function planSessions(scenario: SessionScenario, agentCount: number, weights: readonly number[] | undefined): SessionPlan[] {
  const count = Math.max(1, Math.min(agentCount, scenario.load.users));
  const userWeights = weights === undefined ? undefined : userWeightUnits(Array.from({ length: count }, (_, index) => weights[index] ?? 1));
  const sources = splitSourceAddresses(scenario.connection.sourceAddresses, count, userWeights);
  const plans: SessionPlan[] = [];
  for (let agentId = 0; agentId < count; agentId += 1) {
    const localUsers = usersOfAgent(scenario.load.users, agentId, count, userWeights);
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
      connection: { ...scenario.connection, sourceAddresses: sources[agentId]! },
      socketio: scenario.socketio,
      feeder: scenario.feeder === undefined ? undefined : { ...scenario.feeder, rows: agentFeederRows(scenario.feeder.rows, agentId, count, localUsers, userWeights) },
      ...(userWeights === undefined ? {} : { userWeights }),
    });
  }
  return plans;
}

/**
 * The feeder rows one agent needs, by local user slot: global user i reads
 * row i mod R of the file, whatever agent runs it. Slot k + u of an agent of
 * weight u (1 without weights) is user W later (W: the assignment's period),
 * so its rows repeat every u · R / gcd(W, R) slots: it gets at most that
 * many (and no more than it has users), never the whole file. The agent
 * reads slot j's row at j mod the length shipped.
 */
export function agentFeederRows<Row>(rows: readonly Row[], agentId: number, agentCount: number, localUsers: number, userWeights?: readonly number[]): Row[] {
  if (rows.length === 0) return [];
  const assignment = UserAssignment.of(agentCount, userWeights);
  const period = (assignment.unitsOf(agentId) * rows.length) / greatestCommonDivisor(assignment.period, rows.length);
  const count = Math.max(1, Math.min(localUsers, period));
  const slice: Row[] = [];
  for (let slot = 0; slot < count; slot += 1) slice.push(rows[assignment.indexOf(agentId, slot) % rows.length]!);
  return slice;
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
