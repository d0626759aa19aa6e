import { transportErrors } from '../metrics/counters.js';
import type { AgentHealthTrack } from '../metrics/agent-health-track.js';
import { summarizeAgentHealth, type AgentHealthSummary, type AgentIntervalHealth } from '../metrics/generator-verdict.js';
import type { ClockEstimate } from '../coordinator/agent-handle.js';
import type { IntervalCounters } from '../wire/messages.js';

export type AgentStatus = 'ok' | 'lost' | 'failed';

/** Who an agent was and how it ended: what the coordinator knows and the result keeps alike. */
interface AgentIdentity {
  readonly id: number;
  readonly pid: number | null;
  /** The agent's host name, as it reported it (absent in results before 2026-12). */
  readonly host?: string | undefined;
  /** "local" (a process this coordinator started) or the address it was dialed at (HOST:PORT). */
  readonly address?: string | undefined;
  readonly status: AgentStatus;
  /** Why the agent is lost or failed. */
  readonly reason: string | undefined;
  readonly connections: number;
}

/** One agent of the run, as the result keeps it (`agents[]`): its totals and its health over the run, never per interval. */
export interface AgentEntry extends AgentIdentity {
  readonly requests: number;
  readonly errors: number;
  readonly bytesRead: number;
  /** The agent's clock offset to the coordinator's (agent minus coordinator) and its error bound. */
  readonly clock: { readonly offsetMs: number; readonly uncertaintyMs: number } | undefined;
  /** The agent's own health over the run: is it the bottleneck? */
  readonly health: AgentHealthSummary;
}

/** What the coordinator knows about each agent at the end. */
export interface AgentOutcome extends AgentIdentity {
  readonly clock: ClockEstimate | undefined;
  /** Longest time the coordinator heard the agent's heartbeats but no interval report, ms. */
  readonly lateMsMax: number;
}

/** The result's entry for one agent, from its outcome, its summed counters and its health over the run (its track, or its intervals). Pure. */
export function agentEntry(agent: AgentOutcome, counters: IntervalCounters | undefined, health: AgentHealthTrack | readonly AgentIntervalHealth[]): AgentEntry {
  return {
    id: agent.id,
    pid: agent.pid,
    ...(agent.host === undefined ? {} : { host: agent.host }),
    ...(agent.address === undefined ? {} : { address: agent.address }),
    status: agent.status,
    reason: agent.reason,
    connections: agent.connections,
    requests: counters?.requests ?? 0,
    errors: counters === undefined ? 0 : transportErrors(counters),
    bytesRead: counters?.bytesRead ?? 0,
    clock: agent.clock === undefined ? undefined : { offsetMs: agent.clock.offsetUs / 1000, uncertaintyMs: agent.clock.uncertaintyUs / 1000 },
    health: summarizeAgentHealth(health, agent.lateMsMax),
  };
}
