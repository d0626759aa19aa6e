/**
 * Coordinator↔agent messages: plain JSON objects, one discriminated union per
 * direction. The transport (child-process IPC now, WebSocket for remote
 * agents) only moves them; every receiver validates with `parse*Message`.
 */
import type { AgentPlan } from '../scenarios/plan.js';
import type { ReceiptRows } from './receipt-rows.js';

/** Bumped on any incompatible change to a message below. */
export const wireVersion = 4;

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
  /**
   * The first error message seen per "kind:CODE" key (at most 64 keys, 200
   * characters each): the cause in the server's own words, such as a
   * Socket.IO connect refusal's reason. Absent when there was none.
   */
  errorSamples?: Record<string, string>;
  /** Open model: arrivals due in the interval. */
  scheduled: number;
  /** Open model: arrivals that found no free connection within load.maxDelay. */
  dropped: number;
  /** Gauge at the interval's end: exchanges in flight. */
  inFlight: number;
  /** Gauge at the interval's end: open connections. */
  connections: number;
}

/** One request name's counts in one interval of one agent (or a merge of several). */
export interface RequestCounters {
  /** Responses received, whatever their status. */
  requests: number;
  /** Responses per status code. */
  statuses: Record<string, number>;
  /** Failed exchanges per "kind:CODE". */
  errors: Record<string, number>;
}

/** One request name's interval on the wire: its counts and its latency histogram (V2 compressed base64; "" when empty). */
export interface RequestInterval extends RequestCounters {
  latency: string;
}

/** Encoded HdrHistograms (V2 compressed base64) of one interval. */
export interface IntervalHistograms {
  /** Corrected latency: from the intended send time (open) or the send (closed). */
  latency: string;
  /** Uncorrected service time: from the actual send. */
  serviceTime: string;
  /**
   * Time spent waiting inside spear before an exchange left: a flow `http`
   * step waiting for a pooled connection, a user waiting for a handshake
   * slot. Never part of `latency`; empty when nothing queued.
   */
  queue: string;
}

/**
 * The agent's own health over one interval, measured on its load thread:
 * the evidence for (or against) "spear itself was the bottleneck".
 */
export interface AgentHealth {
  /** Event-loop delay of the load thread over the interval, ms (monitorEventLoopDelay). */
  loopDelayMs: { p50: number; p99: number; max: number };
  /**
   * Event-loop utilization of the load thread over the interval, 0..1: the
   * share of time it was running code rather than waiting for I/O. Near 1 the
   * load loop never waits: it is the bottleneck, even when it gets less than
   * a core (a host whose cores are shared with the target).
   */
  elu: number;
  /** CPU time of the agent process over the interval divided by the interval's wall time: 1 = one core busy throughout. */
  cpu: number;
  /** Resident set size of the agent process at the interval's end, MB (0 when unreadable). */
  rssMb: number;
  /** V8 heap used by the load thread at the interval's end, MB. */
  heapMb: number;
  /** Long connections: handshakes in flight at the interval's end. */
  connecting: number;
  /** Long connections: connection attempts started in the interval. */
  connectsStarted: number;
  /** Long connections: users the ramp wants started by the interval's end that have not started yet (handshake cap, pacing). */
  connectsBehind: number;
  /**
   * Share of all the host's cores busy over the interval, 0..1 (every
   * process, not only spear); absent when the host does not say. High
   * while `cpu` is low: other processes took the CPU this agent needed.
   */
  hostCpu?: number;
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
 * [senderAgent, seq, delivered, late, duplicated, outOfOrder, nonMember, unexpected, firstUs, lastUs, group],
 * group as its stamp names it (the coordinator lays out the broadcast's
 * counts by it before the send is reported). A report carries them packed, as ReceiptRows.
 */
export type BroadcastReceipt = [number, number, number, number, number, number, number, number, number, number, number];

/** A user joined (+1) or left (−1) its group: [groupId, atUs, delta]. */
export type MembershipChange = [number, number, number];

export interface SessionReport {
  counters: SessionCounters;
  histograms: SessionHistograms;
  sent: SentBroadcast[];
  /** One row per broadcast this agent's users got copies of in the interval (base64 columns on the wire). */
  receipts: ReceiptRows;
  membership: MembershipChange[];
}

export interface ReadyMessage {
  type: 'ready';
  wireVersion: number;
  spearVersion: string;
  pid: number;
  /** The agent's host name (os.hostname()); absent from agents before 2026-12. */
  host?: string | undefined;
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
  /**
   * Runs with several request names (src/scenarios/request-names.ts) only:
   * one entry per name, in the names' order (index i is name i).
   */
  requests?: RequestInterval[];
  health: AgentHealth;
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

/**
 * Sign of life from the agent's control thread, every second from `ready`
 * to the end, whatever its load thread is doing: an agent whose interval
 * reports lag but whose heartbeats arrive is late (busy), not lost.
 */
export interface HeartbeatMessage {
  type: 'heartbeat';
  /** Milliseconds since the load thread last sent anything (an interval): how far behind it is. */
  loadSilentMs: number;
  /** Index of the last interval sent; -1 before the first. */
  lastInterval: number;
}

export type AgentMessage = ReadyMessage | PlannedMessage | IntervalMessage | DoneMessage | FailedMessage | PongMessage | HeartbeatMessage;

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
