import { badStatuses, transportErrors } from '../metrics/counters.js';
import { errorKinds, hintFor, parseErrorKey, type ErrorKind } from '../metrics/error-kind.js';
import { encodeHistogram, summarizeMs, type LatencySummaryMs } from '../metrics/histogram.js';
import type { MergedInterval, RunMerger } from '../metrics/merger.js';
import { judgeGenerator, saturationLookup, summarizeAgentHealth, type AgentHealthSummary, type AgentIntervalHealth, type GeneratorVerdict } from '../metrics/generator-verdict.js';
import type { BroadcastLedger } from '../coordinator/broadcast-ledger.js';
import type { ClockEstimate } from '../coordinator/agent-handle.js';
import type { PemFile, Scenario } from '../scenarios/scenario.js';
import { spearVersion } from '../version.js';
import type { IntervalCounters } from '../wire/messages.js';
import { askedConnectRate, summarizeSessions, type BroadcastResult, type ConnectionSummary } from './session-summary.js';
import { evaluateThresholds, type ThresholdResult } from './thresholds.js';
import { requestTicks, summarizeRequests, type RequestSummary, type RequestTick } from './request-summary.js';
import { requestNamesOf } from '../scenarios/request-names.js';

/** Version of the result file format (docs/result-format.md). Bumped on incompatible change. */
export const resultVersion = 1;

export type ErrorCounts = Record<ErrorKind | 'status' | 'total', number>;

export interface Summary {
  readonly model: 'closed' | 'open' | 'users';
  /** Start barrier to the last agent's last interval, seconds. */
  readonly durationS: number;
  /** Responses received, whatever their status. */
  readonly requests: number;
  readonly rps: number;
  readonly bytesRead: number;
  readonly transferPerS: number;
  /** Corrected latency: from the intended send (open model) or the actual send (closed). */
  readonly latencyMs: LatencySummaryMs;
  /** Uncorrected: from the actual send. Equals latencyMs in the closed model. */
  readonly serviceTimeMs: LatencySummaryMs;
  /** Exchanges that failed, by kind; `status` counts responses that were not 2xx/3xx. */
  readonly errors: ErrorCounts;
  /** Share of attempts (responses + failed exchanges) that were errors, 0..1. */
  readonly errorRate: number;
  /** Failed exchanges per "kind:CODE". */
  readonly errorCodes: Record<string, number>;
  /** One message per "kind:CODE" (the first seen), up to 64: the cause in the words of whoever failed. Absent in older result files. */
  readonly errorSamples?: Record<string, string> | undefined;
  readonly statusCodes: Record<string, number>;
  /** Open model only: arrivals scheduled and dropped (no free connection within maxDelay). */
  readonly arrivals: { readonly scheduled: number; readonly dropped: number } | undefined;
  /** Most connections open at once, summed over agents. */
  readonly maxConnections: number;
  /** Cause and fix for the error codes seen, one line each. */
  readonly hints: readonly string[];
  /** spear's verdict on itself: whether an agent was the bottleneck, where and why. Always present. */
  readonly generator: GeneratorVerdict;
  /**
   * Time exchanges waited inside spear before they left (flow `http` steps
   * waiting for a pooled connection, users waiting for a handshake slot);
   * never part of any latency above. count 0 when nothing queued.
   */
  readonly queueMs: LatencySummaryMs;
  /** Long-connection runs only: connections opened, failed, dropped, reconnected. */
  readonly connections?: ConnectionSummary | undefined;
  /** Long-connection runs only: TCP + upgrade + Socket.IO handshake. */
  readonly connectMs?: LatencySummaryMs | undefined;
  /** Long-connection runs only: from an emit/send to its ack or awaited reply. */
  readonly replyMs?: LatencySummaryMs | undefined;
  readonly messages?: { readonly sent: number; readonly received: number } | undefined;
  /** Runs whose flow sends stamped broadcasts: delivery accounting across agents. */
  readonly broadcast?: BroadcastResult | undefined;
  /**
   * Per-request statistics by request name (`requests[].name`, flow `http`
   * step names): only in runs with more than one name (and at most
   * maxRequestBreakdown). Absent in older result files.
   */
  readonly byRequest?: Readonly<Record<string, RequestSummary>> | undefined;
}

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
  /** Each reporting agent's own health in this interval (load-loop delay, CPU, memory, connects). */
  readonly health: readonly AgentIntervalHealth[];
  /** Per-request counts of this interval, by request name; present when `summary.byRequest` is. */
  readonly byRequest?: Readonly<Record<string, RequestTick>> | undefined;
}

export type AgentStatus = 'ok' | 'lost' | 'failed';

export interface AgentEntry {
  readonly id: number;
  readonly pid: number | null;
  /** The agent's host name (absent in results before 2026-12). */
  readonly host?: string | undefined;
  /** "local" (started by the coordinator) or the address it was dialed at (HOST:PORT). */
  readonly address?: string | undefined;
  readonly status: AgentStatus;
  /** Why the agent is lost or failed. */
  readonly reason: string | undefined;
  readonly connections: number;
  readonly requests: number;
  readonly errors: number;
  readonly bytesRead: number;
  /** The agent's clock offset to the coordinator's (agent minus coordinator) and its error bound. */
  readonly clock: { readonly offsetMs: number; readonly uncertaintyMs: number } | undefined;
  /** The agent's own health over the run: is it the bottleneck? */
  readonly health: AgentHealthSummary;
}

export interface RunResult {
  readonly format: 'spear-result';
  readonly version: typeof resultVersion;
  readonly spearVersion: string;
  readonly name: string | undefined;
  readonly startedAt: string;
  readonly endedAt: string;
  /** True when an agent was lost or failed: its numbers stop at its last report; the others ran to the end. */
  readonly partial: boolean;
  /** True when the run was stopped early (Ctrl-C). */
  readonly interrupted: boolean;
  /** Present when spear stopped the run early itself (`abortOnFail`): nothing had succeeded. */
  readonly aborted?: RunAbort | undefined;
  readonly scenario: Scenario;
  readonly summary: Summary;
  readonly thresholds: readonly ThresholdResult[];
  readonly histograms: {
    readonly latency: string;
    readonly serviceTime: string;
    /** Long-connection runs only. */
    readonly connect?: string | undefined;
    readonly reply?: string | undefined;
    readonly delivery?: string | undefined;
  };
  readonly timeline: readonly TimelineEntry[];
  readonly agents: readonly AgentEntry[];
  /** Merged corrected-latency histogram of each request, by name; present when `summary.byRequest` is. */
  readonly requestHistograms?: Readonly<Record<string, string>> | undefined;
}

/** Why and when spear stopped a run early on its own. */
export interface RunAbort {
  /** One line: what failed, e.g. "no request succeeded: 34 connect:ECONNREFUSED (nothing listens …)". */
  readonly reason: string;
  /** From the run's start to the interval that decided it, ms. */
  readonly afterMs: number;
  /** The scenario's `abortOnFail`, ms. */
  readonly abortOnFailMs: number;
}

/** What the coordinator knows about each agent at the end. */
export interface AgentOutcome {
  readonly id: number;
  readonly pid: number | null;
  /** The agent's host name, as it reported it. */
  readonly host?: string | undefined;
  /** "local" for a process this coordinator started, else the address dialed (HOST:PORT). */
  readonly address?: string | undefined;
  readonly status: AgentStatus;
  readonly reason: string | undefined;
  readonly connections: number;
  readonly clock: ClockEstimate | undefined;
  /** Longest time the coordinator heard the agent's heartbeats but no interval report, ms. */
  readonly lateMsMax: number;
}

/** Builds the result from the merged data. Pure apart from encoding histograms. */
export function buildResult(
  scenario: Scenario, merger: RunMerger, agents: readonly AgentOutcome[], interrupted: boolean, ledger?: BroadcastLedger,
): RunResult {
  const names = requestNamesOf(scenario);
  const timeline = merger.timeline().map((interval) => withRequestTicks(timelineEntry(interval), interval, names));
  const startMs = Number.isFinite(merger.startMs) ? merger.startMs : Date.now();
  const endMs = Math.max(merger.endMs, startMs);
  const generator = judgeGenerator(merger.health, new Map(agents.map((agent) => [agent.id, agent.lateMsMax])));
  const requests = summarizeRequests(names, merger.requests, (endMs - startMs) / 1000);
  const base = { ...summarize(scenario, merger, (endMs - startMs) / 1000, generator), ...(requests === undefined ? {} : { byRequest: requests.byRequest }) };
  // An HTTP journey holds no long connection: its summary is the HTTP one (requests, latency, rps).
  const sessions = scenario.protocol !== 'http' && scenario.protocol !== 'http-flow' && ledger !== undefined
    ? summarizeSessions(scenario, merger.sessions, ledger, agents, startMs, saturationLookup(merger.health, new Map(agents.map((agent) => [agent.id, (agent.clock?.offsetUs ?? 0) / 1000]))))
    : undefined;
  const withRate = sessions?.connections === undefined || scenario.protocol === 'http' || scenario.protocol === 'http-flow' ? sessions : {
    ...sessions,
    connections: { ...sessions.connections, connectRate: { askedPerS: askedConnectRate(scenario.load.stages), achievedPerS: peakConnectRate(merger) } },
  };
  const summary: Summary = withRate === undefined ? base : { ...base, ...withRate };
  return {
    format: 'spear-result',
    version: resultVersion,
    spearVersion,
    name: scenario.name,
    startedAt: new Date(startMs).toISOString(),
    endedAt: new Date(endMs).toISOString(),
    partial: agents.some((agent) => agent.status !== 'ok'),
    interrupted,
    scenario: recordedScenario(scenario),
    summary,
    thresholds: evaluateThresholds(scenario.thresholds, summary),
    histograms: {
      latency: encodeHistogram(merger.latency),
      serviceTime: encodeHistogram(merger.serviceTime),
      ...(sessions === undefined ? {} : {
        connect: encodeHistogram(merger.sessions.connect),
        reply: encodeHistogram(merger.sessions.reply),
        delivery: encodeHistogram(merger.sessions.delivery),
      }),
    },
    timeline,
    agents: agents.map((agent) => agentEntry(agent, merger.byAgent.get(agent.id), merger.health.get(agent.id) ?? [])),
    ...(requests === undefined ? {} : { requestHistograms: requests.histograms }),
  };
}

/** The entry with its interval's per-request counts, when the run keeps them. */
function withRequestTicks(entry: TimelineEntry, interval: MergedInterval, names: readonly string[]): TimelineEntry {
  return interval.requests === undefined ? entry : { ...entry, byRequest: requestTicks(names, interval.requests) };
}

/**
 * The scenario as the result file keeps it: files it named stay files. The
 * feeder's rows stay in the CSV (the result names it and its columns), and
 * the tls PEM texts in theirs: a client private key must never travel into
 * a result or a report.
 */
function recordedScenario(scenario: Scenario): Scenario {
  const tls = scenario.tls;
  const withoutPem = tls === undefined ? scenario : {
    ...scenario,
    tls: { ...tls, ca: withoutText(tls.ca), cert: withoutText(tls.cert), key: withoutText(tls.key) },
  };
  return withoutPem.protocol !== 'http' && withoutPem.feeder !== undefined ? { ...withoutPem, feeder: { ...withoutPem.feeder, rows: [] } } : withoutPem;
}

function withoutText(file: PemFile | undefined): PemFile | undefined {
  return file === undefined ? undefined : { file: file.file, pem: '' };
}

function summarize(scenario: Scenario, merger: RunMerger, durationS: number, generator: GeneratorVerdict): Summary {
  const totals = merger.totals;
  const errors = errorCounts(totals);
  const attempts = totals.requests + errors.total - errors.status;
  const perSecond = (count: number): number => (durationS > 0 ? count / durationS : 0);
  return {
    model: scenario.load.model === 'users' && scenario.load.arrivals !== undefined ? 'open' : scenario.load.model,
    durationS,
    requests: totals.requests,
    rps: perSecond(totals.requests),
    bytesRead: totals.bytesRead,
    transferPerS: perSecond(totals.bytesRead),
    latencyMs: merger.latencyMs(),
    serviceTimeMs: summarizeMs(merger.serviceTime),
    errors,
    errorRate: attempts > 0 ? errors.total / attempts : 0,
    errorCodes: { ...totals.errors },
    errorSamples: { ...totals.errorSamples },
    statusCodes: { ...totals.statuses },
    arrivals: scenario.load.model === 'open' || (scenario.load.model === 'users' && scenario.load.arrivals !== undefined) ? { scheduled: totals.scheduled, dropped: totals.dropped } : undefined,
    maxConnections: merger.maxConnections,
    hints: hintsFor(totals),
    generator,
    queueMs: summarizeMs(merger.queue),
  };
}

/** The most connection attempts all agents started in one interval, per second. */
function peakConnectRate(merger: RunMerger): number {
  const byIndex = new Map<number, { started: number; ms: number }>();
  for (const list of merger.health.values()) {
    for (const health of list) {
      const entry = byIndex.get(health.index) ?? { started: 0, ms: health.endMs - health.startMs };
      entry.started += health.connectsStarted;
      entry.ms = Math.max(entry.ms, health.endMs - health.startMs);
      byIndex.set(health.index, entry);
    }
  }
  let peak = 0;
  // A short last interval would magnify a handful of reconnects: rates only over intervals of 200 ms or more.
  for (const { started, ms } of byIndex.values()) if (ms >= 200) peak = Math.max(peak, (started * 1000) / ms);
  return Math.round(peak);
}

function errorCounts(counters: IntervalCounters): ErrorCounts {
  const counts = { connect: 0, read: 0, write: 0, timeout: 0, handshake: 0, disconnect: 0, flow: 0, check: 0, other: 0, status: badStatuses(counters), total: 0 };
  for (const [key, count] of Object.entries(counters.errors)) counts[parseErrorKey(key).kind] += count;
  counts.total = errorKinds.reduce((sum, kind) => sum + counts[kind], counts.status);
  return counts;
}

function hintsFor(counters: IntervalCounters): string[] {
  const hints = new Set<string>();
  for (const key of Object.keys(counters.errors)) {
    const { code } = parseErrorKey(key);
    const hint = hintFor(code);
    if (hint !== undefined) hints.add(`${code}: ${hint}`);
  }
  return [...hints];
}

function timelineEntry(interval: MergedInterval): TimelineEntry {
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
    ...(interval.sessions === undefined ? {} : {
      sessions: {
        connected: interval.sessions.connected,
        joined: interval.sessions.joined,
        opened: interval.sessions.opened,
        failed: interval.sessions.failed,
        disconnects: interval.sessions.disconnects,
        reconnects: interval.sessions.reconnects,
        messagesReceived: interval.sessions.messagesReceived,
        delivered: interval.sessions.delivered,
        ...(interval.deliveryMs === undefined ? {} : {
          deliveryMs: { count: interval.deliveryMs.count, p50: interval.deliveryMs.p50, p90: interval.deliveryMs.p90, p99: interval.deliveryMs.p99, max: interval.deliveryMs.max },
        }),
      },
    }),
  };
}

function agentEntry(agent: AgentOutcome, counters: IntervalCounters | undefined, health: readonly AgentIntervalHealth[]): AgentEntry {
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
