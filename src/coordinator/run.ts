import { AgentError } from '../errors.js';
import { saturationLookup } from '../metrics/generator-verdict.js';
import { RunMerger, type MergedInterval } from '../metrics/merger.js';
import { successMeasureOf } from '../report/no-success.js';
import { buildResult, type RunAbort, type RunResult } from '../report/result.js';
import { planAgents, type AgentPlan } from '../scenarios/plan.js';
import type { Scenario } from '../scenarios/scenario.js';
import type { IntervalMessage } from '../wire/messages.js';
import { AbortOnFail } from './abort-on-fail.js';
import type { AgentHandle, AgentHandleEvents } from './agent-handle.js';
import { AgentListener } from './agent-listener.js';
import { BroadcastLedger } from './broadcast-ledger.js';
import { spawnLocalAgent } from './local-agents.js';
import { dialRemoteAgentWaiting, parseAgentSpec } from './remote-agents.js';
import { preflightLocal, preflightPorts } from './preflight.js';

/** What the UI hears while a run goes on. Listeners must not block. */
export interface RunEvents {
  started(info: { readonly agents: number; readonly startAtMs: number; readonly durationMs: number }): void;
  /** An interval merged over every agent. */
  interval(interval: MergedInterval): void;
  /** One agent's raw interval, as it arrives. */
  agentInterval(message: IntervalMessage): void;
  agentEnded(agent: { readonly id: number; readonly status: string; readonly reason: string | undefined }): void;
  /**
   * An agent's heartbeats arrive but its interval reports lag by `lateMs`
   * (its load thread is busy: late, not lost); called on every heartbeat
   * of a running agent, with 0 once it caught up.
   */
  agentLate(agent: { readonly id: number; readonly lateMs: number }): void;
  /** Nothing succeeded for `abortOnFail`: the coordinator is stopping every agent (once per run). */
  aborted(abort: RunAbort): void;
}

export interface RunOptions {
  /** Local agent processes to start. */
  readonly agents: number;
  /** Remote agents to dial (`spear agent --listen`), as HOST:PORT; they take the first agent ids. */
  readonly remote?: readonly string[] | undefined;
  /** The remote agents' shared token. */
  readonly token?: string | undefined;
  /** PEM CA certificate(s) to trust: remote agents serve TLS (wss://). */
  readonly ca?: string | undefined;
  /**
   * Dial-in agents (`spear agent --join`): listen at HOST:PORT (wss:// with
   * `tls`) for `expect` of them; they take the ids after the dialed agents.
   */
  readonly listen?: { readonly host: string; readonly port: number; readonly expect: number; readonly tls?: { readonly cert: string; readonly key: string } | undefined } | undefined;
  /** Lines about agents joining (`listen`); none when undefined. Must not block. */
  readonly log?: ((line: string) => void) | undefined;
  /** How long to keep dialing remote agents that are not up yet (refused, unreachable), and to wait for `listen` agents to join; default 5 s, 60 s with `listen`. */
  readonly waitMs?: number | undefined;
  /** Aborting stops every agent early; the result is still built. */
  readonly stop?: AbortSignal | undefined;
  readonly events?: Partial<RunEvents> | undefined;
}

const readyTimeoutMs = 15_000;
/** How long remote agents that are not up yet are dialed again by default (--wait). */
const defaultAgentWaitMs = 5000;
/** With dial-in agents (`listen`), they and a scheduler's pods need longer: the default --wait then. */
const defaultJoinWaitMs = 60_000;
const planTimeoutMs = 15_000;

/** How long an agent may be silent before accepting its plan: 15 s, plus 1 s per MiB the plan carries (feeder rows travel in it). While its heartbeats arrive it may take longer (AgentHandle.plan). */
function planTimeoutFor(plan: AgentPlan): number {
  return planTimeoutMs + Math.ceil(JSON.stringify(plan).length / 1048576) * 1000;
}
/** Agents start together this long after the last one accepted its plan. */
const startDelayMs = 250;
const watchdogPeriodMs = 500;
/** Clock probes before the start, and every resync period during the run. */
const clockSamplesAtStart = 12;
const clockSamplesLater = 8;
const clockResyncMs = 15_000;

/**
 * Runs a scenario on local agents and returns the merged result: plan,
 * spawn, wait for every agent to accept its slice, start them at one
 * instant, merge their intervals, and end when every agent is done or lost.
 * Throws only when the run cannot start; a run that started always returns
 * a result (marked partial when agents were lost).
 */
export async function runScenario(scenario: Scenario, options: RunOptions): Promise<RunResult> {
  const specs = (options.remote ?? []).map(parseAgentSpec);
  const remote = specs.map((spec) => spec.address);
  const joining = options.listen?.expect ?? 0;
  const weights = [...specs.map((spec) => spec.weight), ...Array.from({ length: joining + options.agents }, () => 1)];
  // Weights split HTTP connections and rate, and users (src/scenarios/user-assignment.ts): journeys' arrivals follow their users.
  const plans = planAgents(scenario, remote.length + joining + options.agents, weights);
  // Dialed agents come first, then joined ones; a plan with fewer slices than agents leaves the last ones out.
  const remoteCount = Math.min(remote.length, plans.length);
  const joinedCount = Math.min(joining, plans.length - remoteCount);
  preflightLocal(plans.slice(remoteCount + joinedCount));
  preflightPorts(plans.slice(remoteCount + joinedCount));
  const merger = new RunMerger(plans.map((plan) => plan.agentId));
  // Broadcasts settle while the run goes on, judged with the agents' clocks as the result reads them at the end.
  const ledger = scenario.protocol === 'http' ? new BroadcastLedger(true) : new BroadcastLedger(scenario.broadcast.includeSender, {
    agents: plans.map((plan) => plan.agentId),
    timeoutMs: scenario.broadcast.timeoutMs,
    intervalMs: scenario.intervalMs,
    saturated: () => saturationLookup(merger.fleetHealth, new Map(handles.map((handle) => [handle.id, (handle.clock?.offsetUs ?? 0) / 1000]))),
  });
  const abortOnFail = scenario.abortOnFailMs > 0 ? new AbortOnFail(scenario.abortOnFailMs, successMeasureOf(scenario), scenario.load.durationMs) : undefined;
  let aborted: RunAbort | undefined;
  const emitClosed = (closed: MergedInterval[]): void => {
    for (const interval of closed) {
      options.events?.interval?.(interval);
      const abort = abortOnFail?.add(interval);
      if (abort === undefined || options.stop?.aborted === true) continue;
      // The normal stop path: agents stop, drain, send their last intervals; the result is built as usual.
      aborted = abort;
      options.events?.aborted?.(abort);
      for (const handle of handles) handle.stop();
    }
  };
  let settle: () => void = () => undefined;
  const allEnded = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const handles: AgentHandle[] = [];
  const events: AgentHandleEvents = {
    interval: (message) => {
      options.events?.agentInterval?.(message);
      // The merge checks the report's histograms first: a bad one books nothing, not even its broadcast receipts.
      const closed = merger.add(message);
      if (message.sessions !== undefined) ledger.add(message.agentId, message.sessions);
      emitClosed(closed);
      ledger.covered(message.agentId, message.endMs);
    },
    heartbeat: (handle) => options.events?.agentLate?.({ id: handle.id, lateMs: handle.lateMs }),
    ended: (handle) => {
      emitClosed(merger.finishAgent(handle.id));
      ledger.finished(handle.id);
      options.events?.agentEnded?.({ id: handle.id, status: handle.status, reason: handle.reason });
      if (handles.every((each) => each.ended)) settle();
    },
  };
  const waitMs = options.waitMs ?? (options.listen === undefined ? defaultAgentWaitMs : defaultJoinWaitMs);
  const listener = options.listen === undefined ? undefined : await AgentListener.open({ ...options.listen, token: options.token, log: options.log });
  try {
    const gathering = listener?.gather(joining, waitMs, options.stop);
    // Awaited below, after the dials: a dial that fails first must not leave this rejection unhandled.
    gathering?.catch(() => undefined);
    const dialed = await Promise.allSettled(remote.slice(0, remoteCount).map((address, id) => dialRemoteAgentWaiting(id, address, options.token, events, options.ca, waitMs)));
    for (const outcome of dialed) if (outcome.status === 'fulfilled') handles.push(outcome.value);
    const refused = dialed.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (refused !== undefined) throw refused.reason;
    for (const [index, agent] of ((await gathering) ?? []).entries()) {
      if (index < joinedCount) handles.push(agent.adopt(remoteCount + index, events));
      else agent.close();
    }
    for (const plan of plans.slice(remoteCount + joinedCount)) handles.push(spawnLocalAgent(plan.agentId, events));
    await Promise.all(handles.map((handle) => handle.ready(readyTimeoutMs)));
    await Promise.all(handles.map((handle, index) => handle.plan(plans[index]!, planTimeoutFor(plans[index]!))));
    await Promise.all(handles.map((handle) => handle.syncClock(clockSamplesAtStart)));
  } catch (error) {
    for (const handle of handles) handle.release();
    void listener?.close();
    throw error;
  }

  const startAtMs = Date.now() + startDelayMs;
  for (const handle of handles) handle.start(startAtMs, scenario.load.durationMs);
  options.events?.started?.({ agents: handles.length, startAtMs, durationMs: scenario.load.durationMs });

  let interrupted = false;
  const onStop = (): void => {
    interrupted = true;
    for (const handle of handles) handle.stop();
  };
  options.stop?.addEventListener('abort', onStop, { once: true });
  const watchdog = new Watchdog(handles, scenario, startAtMs);
  const watching = setInterval(() => watchdog.check(), watchdogPeriodMs);
  const resync = setInterval(() => {
    for (const handle of handles) if (handle.running) void handle.syncClock(clockSamplesLater);
  }, clockResyncMs);
  try {
    await allEnded;
  } finally {
    clearInterval(watching);
    clearInterval(resync);
    options.stop?.removeEventListener('abort', onStop);
    // Not awaited: the result is built and written at once; the coordinator process
    // stays until its local agents have exited (each gets SIGTERM, then SIGKILL, if it must).
    for (const handle of handles) void handle.release();
    // Agents that dial in meanwhile were refused as busy; now they find nobody, and dial on for the next run.
    void listener?.close();
  }
  if (merger.endMs === 0 && handles.every((handle) => handle.status !== 'ok')) {
    throw new AgentError(`every agent failed before reporting anything: ${handles.map((handle) => handle.reason).join('; ')}`);
  }
  const result = buildResult(
    scenario,
    merger,
    handles.map((handle) => ({ id: handle.id, pid: handle.pid, host: handle.host, address: handle.address, status: handle.status, reason: handle.reason, connections: handle.connections, clock: handle.clock, lateMsMax: handle.lateMsMax })),
    interrupted,
    ledger,
  );
  return aborted === undefined ? result : { ...result, aborted };
}

/** Slack beyond the plan's own drain bound before an agent that has not finished is given up on. */
const finishSlackMs = 5000;
/** A busy agent whose reports run late gets its lateness on top of the deadline, up to this. */
const maxLateExtensionMs = 60_000;

/**
 * Judges agents by their signs of life. Heartbeats come from an agent's
 * control thread, so an agent whose load thread is saturated still shows
 * life: it is late (its reports are merged when they arrive), not lost.
 * Lost means total silence for the silence window, or still running well
 * past the run's end (a wedged agent: its numbers so far are kept).
 */
class Watchdog {
  readonly #handles: readonly AgentHandle[];
  readonly #silenceMs: number;
  readonly #deadlineMs: number;
  #lastCheckMs = Date.now();

  constructor(handles: readonly AgentHandle[], scenario: Scenario, startAtMs: number) {
    this.#handles = handles;
    this.#silenceMs = Math.max(5000, 3 * scenario.intervalMs);
    this.#deadlineMs = startAtMs + scenario.load.durationMs + drainAllowanceMs(scenario) + finishSlackMs;
  }

  check(): void {
    const now = Date.now();
    const stalledMs = now - this.#lastCheckMs - watchdogPeriodMs;
    this.#lastCheckMs = now;
    if (stalledMs > watchdogPeriodMs) {
      // This coordinator itself was frozen (SIGSTOP, a swapped-out host): what the agents sent
      // meanwhile is still queued unread. Judge nobody on the coordinator's own stall.
      for (const handle of this.#handles) handle.lastHeardMs = Math.max(handle.lastHeardMs, now);
      return;
    }
    for (const handle of this.#handles) {
      if (!handle.running) continue;
      if (now - handle.lastHeardMs > this.#silenceMs) {
        handle.lose(`${handle.label}: silent for ${Math.round((now - handle.lastHeardMs) / 1000)}s (no heartbeat, no interval report)`);
      } else if (now > this.#deadlineMs + Math.min(handle.lateMs, maxLateExtensionMs)) {
        handle.lose(`${handle.label}: still running ${Math.round((now - this.#deadlineMs + finishSlackMs) / 1000)}s after the run's end and drain (it ignored stop); its numbers until then are kept and it was shut down`);
      }
    }
  }
}

/** How long agents may drain after the run's end before the coordinator stops waiting (in-flight requests, broadcasts in flight, unread data). */
function drainAllowanceMs(scenario: Scenario): number {
  const drainGraceMs = 1000;
  if (scenario.protocol === 'http') return scenario.timeouts.requestMs + drainGraceMs;
  return Math.max(scenario.broadcast.timeoutMs, scenario.timeouts.requestMs) + 2 * drainGraceMs + 5000;
}
