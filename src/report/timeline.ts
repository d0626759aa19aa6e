import { badStatuses, transportErrors } from '../metrics/counters.js';
import type { MergedInterval } from '../metrics/merger.js';
import type { AgentIntervalHealth } from '../metrics/saturation.js';
import { requestTicks, type RequestTick } from './request-summary.js';

/** One interval of the run, merged over every agent that reported it (`timeline[]`). */
export interface TimelineEntry {
  readonly index: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly agents: number;
  readonly requests: number;
  readonly rps: number;
  readonly bytesRead: number;
  readonly errors: number;
  readonly statusErrors: number;
  readonly scheduled: number;
  readonly dropped: number;
  readonly inFlight: number;
  readonly connections: number;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  /** This interval's merged latency histogram (V2 compressed base64). */
  readonly histogram: string;
  /** Long-connection runs only. */
  readonly sessions?: {
    readonly connected: number;
    readonly joined: number;
    readonly opened: number;
    readonly failed: number;
    readonly disconnects: number;
    readonly reconnects: number;
    readonly messagesReceived: number;
    readonly delivered: number;
    /**
     * Broadcast delivery latency of this interval's deliveries (its merged
     * delivery histogram): the HTML report draws it over time. Absent from
     * results whose coordinator did not merge delivery per interval.
     */
    readonly deliveryMs?: { readonly count: number; readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number } | undefined;
  } | undefined;
  /**
   * Agents' own health in this interval (load-loop delay, CPU, memory,
   * connects), one row per agent, by agent id. Version 2: every reporting
   * agent's row in fleets of up to 16 agents; in larger ones the worst agent
   * by load-loop delay p99, by CPU and by loop use, and an agent's first
   * saturated interval (see src/metrics/timeline-health.ts). Version 1: every reporting
   * agent's row.
   */
  readonly health: readonly AgentIntervalHealth[];
  /** Agents saturated in this interval (the interval rule), whichever rows are kept. Absent in version 1 results. */
  readonly saturatedAgents?: number | undefined;
  /** Per-request counts of this interval, by request name; present when `summary.byRequest` is. */
  readonly byRequest?: Readonly<Record<string, RequestTick>> | undefined;
}

/** The timeline entry of one merged interval, with the agent health the merger kept of it (src/metrics/timeline-health.ts). Pure. */
export function timelineEntry(interval: MergedInterval, names: readonly string[]): TimelineEntry {
  const { counters } = interval;
  const seconds = (interval.endMs - interval.startMs) / 1000;
  return {
    index: interval.index,
    startMs: interval.startMs,
    endMs: interval.endMs,
    agents: interval.agents,
    requests: counters.requests,
    rps: seconds > 0 ? counters.requests / seconds : 0,
    bytesRead: counters.bytesRead,
    errors: transportErrors(counters),
    statusErrors: badStatuses(counters),
    scheduled: counters.scheduled,
    dropped: counters.dropped,
    inFlight: counters.inFlight,
    connections: counters.connections,
    latencyMs: { p50: interval.latencyMs.p50, p90: interval.latencyMs.p90, p99: interval.latencyMs.p99, max: interval.latencyMs.max },
    histogram: interval.latency,
    health: interval.health,
    saturatedAgents: interval.saturatedAgents,
    ...(interval.sessions === undefined ? {} : { sessions: sessionsOf(interval) }),
    ...(interval.requests === undefined ? {} : { byRequest: requestTicks(names, interval.requests) }),
  };
}

function sessionsOf(interval: MergedInterval): TimelineEntry['sessions'] {
  const sessions = interval.sessions;
  if (sessions === undefined) return undefined;
  const delivery = interval.deliveryMs;
  return {
    connected: sessions.connected,
    joined: sessions.joined,
    opened: sessions.opened,
    failed: sessions.failed,
    disconnects: sessions.disconnects,
    reconnects: sessions.reconnects,
    messagesReceived: sessions.messagesReceived,
    delivered: sessions.delivered,
    ...(delivery === undefined ? {} : { deliveryMs: { count: delivery.count, p50: delivery.p50, p90: delivery.p90, p99: delivery.p99, max: delivery.max } }),
  };
}
