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

/** What became of broadcast copies that reached users: the same six counts per interval, per broadcast and per run. */
export interface DeliveryCounts {
  /** Broadcast deliveries to members, first copy, within broadcast.timeout. */
  delivered: number;
  /** First copies to members after broadcast.timeout. */
  late: number;
  duplicated: number;
  outOfOrder: number;
  nonMember: number;
  /** Deliveries to members that joined after the send (not expected, not counted delivered). */
  unexpected: number;
}

/** Long-connection counters of one interval of one agent (or a merge). */
export interface SessionCounters extends DeliveryCounts {
  /** Users whose flow started (first attempt). */
  usersStarted: number;
  /** Connections that opened (handshake done). */
  opened: number;
  /** Connection attempts that failed. */
  failed: number;
  /** Open connections that ended without this side asking. */
  disconnects: number;
  /** Connections opened again after a disconnect or failure. */
  reconnects: number;
  /** Gauge at the interval's end: open connections. */
  connected: number;
  /** Gauge at the interval's end: users that passed a `join` step and are connected. */
  joined: number;
  messagesSent: number;
  messagesReceived: number;
  broadcastsSent: number;
  /** When every user of this agent had connected at least once (coordinator clock, µs); 0 = not yet. */
  allConnectedUs: number;
}

/** Encoded histograms of a long-connection interval. */
export interface SessionHistograms {
  /** TCP + upgrade + Socket.IO handshake. */
  connect: string;
  /** From an emit/send to its ack or awaited reply. */
  reply: string;
  /** Broadcast delivery: receive time minus send time, both in the coordinator's clock. */
  delivery: string;
}

/** A broadcast a user of this agent sent: [groupId, seq, userIndex, sentUs]. seq is unique per agent. */
export type SentBroadcast = [number, number, number, number];

/**
 * What this agent's users received of one broadcast in the interval:
 * [senderAgent, seq, delivered, late, duplicated, outOfOrder, nonMember, unexpected, firstUs, lastUs].
 */
export type BroadcastReceipt = [number, number, number, number, number, number, number, number, number, number];

/** A user joined (+1) or left (−1) its group: [groupId, atUs, delta]. */
export type MembershipChange = [number, number, number];

export interface SessionReport {
  counters: SessionCounters;
  histograms: SessionHistograms;
  sent: SentBroadcast[];
  receipts: BroadcastReceipt[];
  membership: MembershipChange[];
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
  /** Long-connection runs only. */
  sessions?: SessionReport;
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

/** Answer to a ping: the agent's clock (µs) when it received and answered. */
export interface PongMessage {
  type: 'pong';
  id: number;
  receivedUs: number;
  sentUs: number;
}

export type AgentMessage = ReadyMessage | PlannedMessage | IntervalMessage | DoneMessage | FailedMessage | PongMessage;

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

/** Clock probe; the agent answers with a pong at once. */
export interface PingMessage {
  type: 'ping';
  id: number;
}

/** The coordinator's estimate of the agent's clock offset (agent minus coordinator), µs. */
export interface ClockMessage {
  type: 'clock';
  offsetUs: number;
  uncertaintyUs: number;
}

export type CoordinatorMessage = PlanMessage | StartMessage | StopMessage | PingMessage | ClockMessage;
