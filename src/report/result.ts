import { encodeHistogram } from '../metrics/histogram.js';
import type { RunMerger } from '../metrics/merger.js';
import { judgeGenerator, saturationLookup } from '../metrics/generator-verdict.js';
import type { BroadcastLedger } from '../coordinator/broadcast-ledger.js';
import type { PemFile, Scenario } from '../scenarios/scenario.js';
import { requestNamesOf } from '../scenarios/request-names.js';
import { spearVersion } from '../version.js';
import { agentEntry, type AgentEntry, type AgentOutcome } from './agent-entry.js';
import { askedConnectRate, summarizeSessions } from './session-summary.js';
import { summarize, type Summary } from './summary.js';
import { evaluateThresholds, type ThresholdResult } from './thresholds.js';
import { summarizeRequests } from './request-summary.js';
import { timelineEntry, type TimelineEntry } from './timeline.js';

// The result's parts live beside it, one noun each; their types are re-exported for the renderers.
export type { AgentEntry, AgentOutcome, AgentStatus } from './agent-entry.js';
export type { ErrorCounts, Summary } from './summary.js';
export type { TimelineEntry } from './timeline.js';

/**
 * Version of the result file format (docs/result-format.md) that spear
 * writes. Bumped on incompatible change. 2: `timeline[].health` keeps every
 * agent's row only in fleets of up to 16 agents (TimelineHealth), and
 * `timeline[].saturatedAgents` counts the saturated ones.
 */
export const resultVersion = 2;

/** Every version `spear report` reads: its renderers treat what a version lacks as absent. */
export const readableResultVersions: readonly ResultVersion[] = [1, 2];

export type ResultVersion = 1 | typeof resultVersion;

/** A whole run (docs/result-format.md): written once by `spear run`, read by `spear report`. */
export interface RunResult {
  readonly format: 'spear-result';
  /** The version this file was written in: `resultVersion` when spear wrote it now, possibly older when read back. */
  readonly version: ResultVersion;
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

/** Builds the result from the merged data. Pure apart from encoding histograms. */
export function buildResult(
  scenario: Scenario, merger: RunMerger, agents: readonly AgentOutcome[], interrupted: boolean, ledger?: BroadcastLedger,
): RunResult {
  const names = requestNamesOf(scenario);
  const timeline = merger.timeline().map((interval) => timelineEntry(interval, names));
  const fleet = merger.fleetHealth;
  const startMs = Number.isFinite(merger.startMs) ? merger.startMs : Date.now();
  const endMs = Math.max(merger.endMs, startMs);
  const generator = judgeGenerator(fleet, new Map(agents.map((agent) => [agent.id, agent.lateMsMax])));
  const requests = summarizeRequests(names, merger.requests, (endMs - startMs) / 1000);
  const base = { ...summarize(scenario, merger, (endMs - startMs) / 1000, generator), ...(requests === undefined ? {} : { byRequest: requests.byRequest }) };
  // An HTTP journey holds no long connection: its summary is the HTTP one (requests, latency, rps).
  const sessions = scenario.protocol !== 'http' && scenario.protocol !== 'http-flow' && ledger !== undefined
    ? summarizeSessions(scenario, merger.sessions, ledger, agents, startMs, saturationLookup(fleet, new Map(agents.map((agent) => [agent.id, (agent.clock?.offsetUs ?? 0) / 1000]))))
    : undefined;
  const withRate = sessions?.connections === undefined || scenario.protocol === 'http' || scenario.protocol === 'http-flow' ? sessions : {
    ...sessions,
    connections: { ...sessions.connections, connectRate: { askedPerS: askedConnectRate(scenario.load.stages), achievedPerS: fleet.peakConnectRate() } },
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
    agents: agents.map((agent) => agentEntry(agent, merger.byAgent.get(agent.id), fleet.get(agent.id) ?? [])),
    ...(requests === undefined ? {} : { requestHistograms: requests.histograms }),
  };
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
