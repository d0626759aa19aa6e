import type { IntervalCounters, IntervalMessage, RequestCounters, SessionCounters } from '../wire/messages.js';
import { addCounters, emptyCounters } from './counters.js';
import { FleetHealth } from './fleet-health.js';
import { HealthRows } from './health-rows.js';
import { createHistogram, encodeHistogram, summarizeMs, type Histogram, type LatencySummaryMs } from './histogram.js';
import { parseReportPayloads } from './report-payloads.js';
import { RequestMerger } from './request-merger.js';
import type { AgentIntervalHealth } from './saturation.js';
import { SessionMerger } from './session-merger.js';
import { addSessionCounters, emptySessionCounters } from './session-recorder.js';
import { TimelineHealth } from './timeline-health.js';

/** One interval merged over every agent that reported it. */
export interface MergedInterval {
  readonly index: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly agents: number;
  readonly counters: IntervalCounters;
  readonly latencyMs: LatencySummaryMs;
  /** The merged latency histogram of this interval, encoded. */
  readonly latency: string;
  /** Long-connection counters of this interval (gauges summed over agents); undefined for request runs. */
  readonly sessions: SessionCounters | undefined;
  /** Long-connection runs: broadcast delivery latency of this interval's deliveries, merged over agents. */
  readonly deliveryMs?: LatencySummaryMs | undefined;
  /**
   * Reporting agents' own health in this interval, by agent id: every
   * agent's in fleets of up to HealthRows.everyAgentUpTo agents. In larger
   * ones, as returned when the interval closes: the agents saturated in it
   * plus the worst by load-loop delay p99, CPU and loop use (HealthRows);
   * as `timeline()` keeps it: the worst three and each agent's first
   * saturated interval (TimelineHealth).
   */
  readonly health: readonly AgentIntervalHealth[];
  /** Agents saturated in this interval (the interval rule), counted before any row was left out. */
  readonly saturatedAgents: number;
  /** Per-request counters of this interval, by request name index; absent without per-request statistics. */
  readonly requests?: readonly RequestCounters[] | undefined;
}

interface OpenInterval {
  startMs: number;
  endMs: number;
  agents: number;
  readonly counters: IntervalCounters;
  readonly latency: Histogram;
  sessions: SessionCounters | undefined;
  delivery: Histogram | undefined;
  readonly health: HealthRows;
}

/**
 * The coordinator's merge: adds every agent's interval histograms exactly
 * (HdrHistogram counts, never averaged percentiles) into run totals and
 * per-interval merges. An interval is closed, summarized and encoded once
 * every agent still running has reported it, so only a few histograms are
 * alive at a time however long the run; agents' health is kept bounded
 * (FleetHealth). Once per agent per interval: 500 agents make it the
 * coordinator's main work (bench/fleet-merge.mjs), so it decodes each
 * histogram once, straight into its targets (HistogramPayload).
 */
export class RunMerger {
  readonly latency: Histogram = createHistogram();
  readonly serviceTime: Histogram = createHistogram();
  /** Time exchanges waited inside spear before leaving (never part of latency). */
  readonly queue: Histogram = createHistogram();
  /** Every agent's health over the run, bounded: what the verdict, agents[].health, the connect rate and the broadcast loss lookup read. */
  readonly fleetHealth: FleetHealth;
  readonly totals: IntervalCounters = emptyCounters();
  readonly byAgent = new Map<number, IntervalCounters>();
  /** Long-connection totals and histograms (empty for request runs). */
  readonly sessions = new SessionMerger();
  /** Per-request totals and histograms (empty unless the run has several request names). */
  readonly requests = new RequestMerger();
  /** Largest sum of open connections seen in one interval. */
  maxConnections = 0;
  /** Open model: arrivals dropped in intervals in which the dropping agent was saturated (spear may have dropped them, not the server). */
  droppedWhileSaturated = 0;
  startMs = Number.POSITIVE_INFINITY;
  endMs = 0;
  readonly #open = new Map<number, OpenInterval>();
  readonly #closed: MergedInterval[] = [];
  readonly #lastIndex = new Map<number, number>();
  readonly #finished = new Set<number>();
  readonly #fleetSize: number;
  /** Which health rows a closed interval keeps (the intervals returned when they close carry all of HealthRows'). */
  readonly #keptHealth: TimelineHealth;

  constructor(agentIds: readonly number[]) {
    this.fleetHealth = new FleetHealth(agentIds);
    this.#fleetSize = agentIds.length;
    this.#keptHealth = new TimelineHealth(agentIds.length);
    for (const id of agentIds) {
      this.byAgent.set(id, emptyCounters());
      this.#lastIndex.set(id, -1);
    }
  }

  /**
   * Adds one agent's interval; returns the intervals this report closed,
   * oldest first. Throws WireError, having merged nothing, when one of the
   * report's histograms is malformed.
   */
  add(message: IntervalMessage): MergedInterval[] {
    const payloads = parseReportPayloads(message);
    payloads.latency.addTo(this.latency);
    payloads.serviceTime.addTo(this.serviceTime);
    payloads.queue.addTo(this.queue);
    const health: AgentIntervalHealth = { agent: message.agentId, index: message.index, startMs: message.startMs, endMs: message.endMs, ...message.health };
    const saturated = this.fleetHealth.add(health) !== undefined;
    if (saturated) this.droppedWhileSaturated += message.counters.dropped;
    const { inFlight, connections } = this.totals;
    addCounters(this.totals, message.counters);
    this.totals.inFlight = inFlight;
    this.totals.connections = connections;
    const agent = this.byAgent.get(message.agentId);
    if (agent !== undefined) addCounters(agent, message.counters);
    const delivery = this.sessions.add(message, payloads.sessions);
    this.requests.add(message, payloads.requests);
    this.startMs = Math.min(this.startMs, message.startMs);
    this.endMs = Math.max(this.endMs, message.endMs);

    let open = this.#open.get(message.index);
    if (open === undefined) {
      open = { startMs: message.startMs, endMs: message.endMs, agents: 0, counters: emptyCounters(), latency: createHistogram(), sessions: undefined, delivery: undefined, health: new HealthRows(this.#fleetSize) };
      this.#open.set(message.index, open);
    }
    open.startMs = Math.min(open.startMs, message.startMs);
    open.endMs = Math.max(open.endMs, message.endMs);
    open.agents += 1;
    addCounters(open.counters, message.counters);
    payloads.latency.addTo(open.latency);
    open.health.add(health, saturated);
    if (message.sessions !== undefined) {
      addSessionCounters(open.sessions ??= emptySessionCounters(), message.sessions.counters);
      if (delivery !== undefined) delivery.addTo(open.delivery ??= createHistogram());
    }
    this.#lastIndex.set(message.agentId, message.index);
    return this.#closeReady();
  }

  /** The agent sent its last interval (done) or was lost: no interval waits for it any more. */
  finishAgent(agentId: number): MergedInterval[] {
    this.#finished.add(agentId);
    return this.#closeReady();
  }

  /** Closes whatever is still open (end of run) and returns the whole timeline. */
  timeline(): MergedInterval[] {
    for (const index of [...this.#open.keys()].sort((a, b) => a - b)) this.#closeInterval(index);
    return [...this.#closed].sort((a, b) => a.index - b.index);
  }

  #closeReady(): MergedInterval[] {
    const closed: MergedInterval[] = [];
    for (const index of [...this.#open.keys()].sort((a, b) => a - b)) {
      if (!this.#reportedByAll(index)) break;
      closed.push(this.#closeInterval(index));
    }
    return closed;
  }

  #reportedByAll(index: number): boolean {
    for (const [agentId, last] of this.#lastIndex) {
      if (last < index && !this.#finished.has(agentId)) return false;
    }
    return true;
  }

  #closeInterval(index: number): MergedInterval {
    const open = this.#open.get(index)!;
    this.#open.delete(index);
    this.maxConnections = Math.max(this.maxConnections, open.counters.connections);
    if (open.sessions !== undefined) this.sessions.gauges(open.sessions);
    const requests = this.requests.takeInterval(index);
    const merged: MergedInterval = {
      index,
      startMs: open.startMs,
      endMs: open.endMs,
      agents: open.agents,
      counters: open.counters,
      latencyMs: summarizeMs(open.latency),
      latency: encodeHistogram(open.latency),
      sessions: open.sessions,
      ...(open.delivery === undefined ? {} : { deliveryMs: summarizeMs(open.delivery) }),
      health: open.health.rows(),
      saturatedAgents: 0,
      ...(requests === undefined ? {} : { requests }),
    };
    const kept = this.#keptHealth.take(merged.health);
    this.#closed.push({ ...merged, health: kept.rows, saturatedAgents: kept.saturatedAgents });
    return { ...merged, saturatedAgents: kept.saturatedAgents };
  }

  /** Summary of the run's merged corrected latency. */
  latencyMs(): LatencySummaryMs {
    return summarizeMs(this.latency);
  }
}
