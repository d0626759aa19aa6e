import type { SaturationLookup } from '../metrics/generator-verdict.js';
import type { AgentOutcome } from './result.js';
import type { BroadcastLedger, BroadcastSummary } from '../coordinator/broadcast-ledger.js';
import { summarizeMs, type LatencySummaryMs } from '../metrics/histogram.js';
import type { SessionMerger } from '../metrics/session-merger.js';
import type { SessionScenario } from '../scenarios/scenario.js';

/** Long connections over the run (result file: summary.connections). */
export interface ConnectionSummary {
  /** Virtual users the scenario asked for. */
  readonly users: number;
  readonly opened: number;
  readonly failed: number;
  readonly disconnects: number;
  readonly reconnects: number;
  /** Most connections open at once (sum over agents, at interval ends). */
  readonly peak: number;
  /** From the start until every user had connected once; null when some never did. */
  readonly timeToAllConnectedMs: number | null;
  /**
   * Users the ramp wanted started by the end that no agent reported
   * starting: spear's ramp fell behind (a saturated agent, or handshakes
   * held at the cap by a slow server), or a lost agent never reported them.
   * They never tried, so they are not connection failures: a run that
   * leaves users unstarted measured fewer users than it asked for. Absent
   * when 0, and for ramps that retire users (falling stages), where starts
   * cannot be matched to users.
   */
  readonly neverStarted?: number | undefined;
  /**
   * Connection attempts per second: the steepest rise the load asked for, and
   * the most the agents started in one interval (all agents, reconnects
   * included). Achieved well below asked means the agents or the handshake
   * cap held the ramp back: see summary.generator.
   */
  readonly connectRate?: { readonly askedPerS: number; readonly achievedPerS: number } | undefined;
}

/** The steepest user ramp of a load, users per second. */
export function askedConnectRate(stages: readonly { readonly durationMs: number; readonly users: number }[]): number {
  let previous = 0;
  let steepest = 0;
  for (const stage of stages) {
    if (stage.durationMs > 0) steepest = Math.max(steepest, ((stage.users - previous) * 1000) / stage.durationMs);
    else if (stage.users > previous) steepest = Number.POSITIVE_INFINITY;
    previous = stage.users;
  }
  return steepest;
}

/** `{neverStarted}` when a ramp that never retires users ended with fewer starts than its last stage's users; else nothing. */
export function neverStartedOf(stages: readonly { readonly users: number }[], started: number): { neverStarted?: number } {
  let previous = 0;
  for (const stage of stages) {
    if (stage.users < previous) return {};
    previous = stage.users;
  }
  return previous > started ? { neverStarted: previous - started } : {};
}

/** Broadcast accounting plus the merged delivery latency (result file: summary.broadcast). */
export interface BroadcastResult extends BroadcastSummary {
  readonly latencyMs: LatencySummaryMs;
  /** Bound on the clock error in a delivery latency: the sender's and the receiver's offset errors added. */
  readonly clockUncertaintyMs: number;
}

export interface SessionSummaryParts {
  readonly connections: ConnectionSummary;
  readonly connectMs: LatencySummaryMs;
  readonly replyMs: LatencySummaryMs;
  readonly messages: { readonly sent: number; readonly received: number };
  readonly broadcast: BroadcastResult | undefined;
}

/**
 * The long-connection parts of a summary. Pure apart from reading merged
 * histograms. `saturated` tells, per receiving agent, whether a broadcast
 * copy it never read within broadcast.timeout of the send is `unverified`
 * (the agent was saturated or silent then) rather than `lost`.
 */
export function summarizeSessions(
  scenario: SessionScenario, sessions: SessionMerger, ledger: BroadcastLedger, agents: readonly AgentOutcome[], startMs: number,
  saturated: SaturationLookup,
): SessionSummaryParts {
  const totals = sessions.totals;
  const running = agents.filter((agent) => agent.status === 'ok');
  const allConnected = running.length > 0 && running.every((agent) => sessions.allConnectedUs.has(agent.id));
  const lastConnectedUs = Math.max(0, ...sessions.allConnectedUs.values());
  const uncertainties = agents.map((agent) => agent.clock?.uncertaintyUs ?? 0);
  const broadcasts = ledger.empty ? undefined : ledger.summarize({ saturated, timeoutMs: scenario.broadcast.timeoutMs });
  return {
    connections: {
      users: scenario.load.users,
      opened: totals.opened,
      failed: totals.failed,
      disconnects: totals.disconnects,
      reconnects: totals.reconnects,
      peak: totals.connected,
      timeToAllConnectedMs: allConnected ? Math.max(0, Math.round(lastConnectedUs / 1000 - startMs)) : null,
      ...neverStartedOf(scenario.load.stages, totals.usersStarted),
    },
    connectMs: summarizeMs(sessions.connect),
    replyMs: summarizeMs(sessions.reply),
    messages: { sent: totals.messagesSent, received: totals.messagesReceived },
    broadcast: broadcasts === undefined ? undefined : {
      ...broadcasts,
      latencyMs: summarizeMs(sessions.delivery),
      clockUncertaintyMs: (2 * Math.max(0, ...uncertainties)) / 1000,
    },
  };
}
