/**
 * The validated, normalized scenario: what `spear run` executes. Produced
 * only by `validateScenario`; every duration is in milliseconds and every
 * rate in arrivals per second.
 */

import type { BroadcastSpec, ConnectionSpec, Feeder, Groups, ReconnectPolicy, SocketIoSpec, Step, UsersLoad } from './flow.js';

/** One HTTP request a virtual client sends; clients rotate through the list. */
export interface HttpRequestSpec {
  /** What statistics and thresholds call it: `requests[].name`, default "METHOD path" (src/scenarios/request-names.ts). */
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | undefined;
}

/** A ramp: the arrival rate moves linearly to `ratePerS` over `durationMs`. */
export interface Stage {
  readonly durationMs: number;
  readonly ratePerS: number;
}

/** Closed model: each connection sends its next request when a response arrives (wrk). */
export interface ClosedLoad {
  readonly model: 'closed';
  readonly connections: number;
  /** Requests kept in flight per connection (HTTP/1.1 pipelining); 1 = none. */
  readonly pipelining: number;
  readonly durationMs: number;
}

/**
 * Open model: arrivals follow a schedule whatever the server does (wrk2, k6
 * arrival-rate). Latency is measured from each arrival's intended time.
 */
export interface OpenLoad {
  readonly model: 'open';
  /** Connections available to carry arrivals. */
  readonly connections: number;
  /** Rate at time zero; each stage ramps linearly from the previous rate. */
  readonly startRatePerS: number;
  readonly stages: readonly Stage[];
  /** An arrival that waited this long for a free connection is dropped. */
  readonly maxDelayMs: number;
  readonly durationMs: number;
}

export type LoadProfile = ClosedLoad | OpenLoad;

export const thresholdMetrics = [
  'p50', 'p75', 'p90', 'p95', 'p99', 'p999', 'min', 'mean', 'max',
  'rps', 'errors', 'dropped', 'requests', 'lost', 'disconnects',
  /** Agents spear's own verdict found saturated (summary.generator.agents). */
  'saturated',
  /** Long-connection users the ramp wanted but no agent started (summary.connections.neverStarted), or their share of the users asked. */
  'neverStarted',
] as const;
/** Which latency a percentile threshold reads: requests (default), or a long-connection histogram ("delivery.p99"). */
export const latencyScopes = ['latency', 'delivery', 'connect', 'reply'] as const;
export type LatencyScope = (typeof latencyScopes)[number];
export type ThresholdMetric = (typeof thresholdMetrics)[number];
export type ThresholdOperator = '<' | '<=' | '>' | '>=';

/**
 * A pass/fail condition on the merged result. Latency values are in
 * milliseconds; `percent` marks `errors`, `dropped`, `lost`, `disconnects`
 * and `neverStarted` bounds given as a share (of attempts, scheduled
 * arrivals, expected deliveries, opened connections, users asked) rather
 * than a count.
 */
export interface Threshold {
  readonly source: string;
  readonly metric: ThresholdMetric;
  /** For percentile metrics: which histogram. */
  readonly scope: LatencyScope;
  readonly operator: ThresholdOperator;
  readonly value: number;
  readonly percent: boolean;
  /** Set when the threshold reads one request's statistics (`requests.<name>.p99 < 200ms`): that request's name. */
  readonly request?: string;
}

export interface Timeouts {
  /** TCP connect (and TLS handshake) budget. */
  readonly connectMs: number;
  /**
   * Whole-exchange budget: from the send until the last byte of the response.
   * Checked by one sweep per agent every tenth of the budget (at most every
   * second), so a timeout fires up to 10% late.
   */
  readonly requestMs: number;
}

/** A PEM file a scenario names: the path as given, and its text once the coordinator has read it. */
export interface PemFile {
  /** As written in the scenario (relative to it) or on the command line (relative to the working directory). */
  readonly file: string;
  /** The PEM text: read at load time and shipped to agents in their plans (remote agents do not have the file). "" in result files. */
  readonly pem: string;
}

/**
 * How spear's clients verify the target's TLS certificate and present
 * their own, for every TLS connection of the run (the target, flow `http`
 * steps, `connect` URLs). Absent: Node's defaults (verify against the
 * system's roots, SNI from the URL's host name).
 */
export interface TargetTls {
  /** Skip certificate verification (chain and name): `tls.insecure`, `--insecure`. */
  readonly insecure: boolean;
  /** CA certificates to trust *instead of* the system's roots (Node's `ca` replaces them): `tls.ca`, `--target-ca`. */
  readonly ca: PemFile | undefined;
  /** Client certificate (and its chain) and its private key: both or neither. */
  readonly cert: PemFile | undefined;
  readonly key: PemFile | undefined;
  /** The name sent in SNI and verified against the certificate; undefined: the URL's host name (none for an IP address). */
  readonly servername: string | undefined;
}

/** What every scenario has, whatever it loads. */
export interface ScenarioBase {
  readonly name: string | undefined;
  /** Origin only: scheme, host and port. */
  readonly target: string;
  readonly timeouts: Timeouts;
  readonly thresholds: readonly Threshold[];
  /** Local agent processes to start; undefined = one per core (none when remote agents are named). */
  readonly agents: number | undefined;
  /** Remote agents to dial (HOST:PORT or HOST:PORT*WEIGHT), from `agents: [...]`; --agent flags replace them. */
  readonly remoteAgents: readonly string[];
  readonly intervalMs: number;
  /**
   * Stop the run early when nothing has succeeded (no response; in ws/socketio
   * runs, no user connected) and attempts failed for this long from the start:
   * `abortOnFail`, `--abort-on-fail`. 0 = never.
   */
  readonly abortOnFailMs: number;
  /** Target TLS settings (`tls:`, `--insecure`, `--target-ca`); absent when none were given. */
  readonly tls?: TargetTls | undefined;
}

/** Case A: request/response load over HTTP/1.1 keep-alive connections. */
export interface HttpScenario extends ScenarioBase {
  readonly protocol: 'http';
  readonly requests: readonly HttpRequestSpec[];
  readonly load: LoadProfile;
}

/**
 * Case B: virtual users on long connections (WebSocket or Socket.IO), each
 * running a flow. `http-flow`: an HTTP user journey (`protocol: http` with a
 * `flow`): users hold no long connection and repeat their http and sleep
 * steps until the run ends.
 */
export interface SessionScenario extends ScenarioBase {
  readonly protocol: 'ws' | 'socketio' | 'http-flow';
  readonly load: UsersLoad;
  readonly flow: readonly Step[];
  readonly groups: Groups;
  readonly reconnect: ReconnectPolicy | undefined;
  readonly broadcast: BroadcastSpec;
  readonly connection: ConnectionSpec;
  readonly socketio: SocketIoSpec;
  readonly feeder: Feeder | undefined;
}

export type Scenario = HttpScenario | SessionScenario;
