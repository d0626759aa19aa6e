/**
 * Coordinator↔agent messages: plain JSON objects, one discriminated union per
 * direction. The transport (child-process IPC now, WebSocket for remote
 * agents) only moves them; every receiver validates with `parse*Message`.
 */
import type { AgentPlan } from '../scenarios/plan.js';

/** Bumped on any incompatible change to a message below. */
export const wireVersion = 1;

/** Counters for one interval of one agent (or a merge of several). */
export interface IntervalCounters {
  /** Responses received, whatever their status. */
  requests: number;
  /** Response bytes: the head (status line and header lines, as received) plus the body. */
  bytesRead: number;
  /** Responses per status code: {"200": 981, "503": 19}. */
  statuses: Record<string, number>;
  /** Failed exchanges per "kind:CODE": {"connect:ECONNREFUSED": 12}. */
  errors: Record<string, number>;
  /** Open model: arrivals due in the interval. */
  scheduled: number;
  /** Open model: arrivals that found no free connection within load.maxDelay. */
  dropped: number;
  /** Gauge at the interval's end: exchanges in flight. */
  inFlight: number;
  /** Gauge at the interval's end: open connections. */
  connections: number;
}

/** Encoded HdrHistograms (V2 compressed base64) of one interval. */
export interface IntervalHistograms {
  /** Corrected latency: from the intended send time (open) or the send (closed). */
  latency: string;
  /** Uncorrected service time: from the actual send. */
  serviceTime: string;
}

export interface ReadyMessage {
  type: 'ready';
  wireVersion: number;
  spearVersion: string;
  pid: number;
  /** Hard open-file limit of the agent process; null when unknown. */
  fdLimit: number | null;
}

export interface PlannedMessage {
  type: 'planned';
  agentId: number;
}

export interface IntervalMessage {
  type: 'interval';
  agentId: number;
  /** Interval number from the start barrier: covers [start + index·I, start + (index+1)·I). */
  index: number;
  startMs: number;
  endMs: number;
  counters: IntervalCounters;
  histograms: IntervalHistograms;
}

export interface DoneMessage {
  type: 'done';
  agentId: number;
}

export interface FailedMessage {
  type: 'failed';
  code: string;
  message: string;
}

export type AgentMessage = ReadyMessage | PlannedMessage | IntervalMessage | DoneMessage | FailedMessage;

export interface PlanMessage {
  type: 'plan';
  wireVersion: number;
  plan: AgentPlan;
}

export interface StartMessage {
  type: 'start';
  /** Wall-clock time (epoch ms, agent's clock) at which load begins. */
  atMs: number;
}

export interface StopMessage {
  type: 'stop';
}

export type CoordinatorMessage = PlanMessage | StartMessage | StopMessage;
