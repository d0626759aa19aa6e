import { headerValueProblem } from '../protocols/http/request-text.js';
import { Checker, describe, type DocPath } from './checker.js';
import { parseThreshold } from './threshold.js';
import { maxTimeoutMs, minIntervalMs } from './units.js';
import type { HttpRequestSpec, LoadProfile, Scenario, ScenarioBase, SessionScenario, TargetTls, Threshold, Timeouts } from './scenario.js';
import { flowOf } from './validate-flow.js';
import { checkRequestNames, defaultRequestName, requestNameOf } from './request-names.js';
import { tlsOf } from './tls-settings.js';
import { broadcastOf, connectionOf, feederFileOf, groupsOf, reconnectOf, sessionDefaults, socketioOf, usersLoadOf } from './validate-sessions.js';
import { journeyLoadOf } from './journey-load.js';
import { rateOf, stagesOf } from './arrival-rates.js';

export const topKeys = ['name', 'target', 'protocol', 'duration', 'requests', 'load', 'timeouts', 'thresholds', 'agents', 'interval', 'tls', 'abortOnFail'] as const;
/** Keys only long-connection scenarios (protocol ws or socketio) have. */
export const sessionTopKeys = ['flow', 'groups', 'reconnect', 'broadcast', 'connection', 'socketio', 'feeder'] as const;
export const protocolNames = ['http', 'ws', 'socketio'] as const;
export const loadKeys = ['connections', 'pipelining', 'rate', 'startRate', 'stages', 'maxDelay'] as const;
export const requestKeys = ['name', 'method', 'path', 'headers', 'body'] as const;
export { stageKeys } from './arrival-rates.js';
export const timeoutKeys = ['connect', 'request'] as const;

const methodPattern = /^[A-Za-z]+$/;
/** RFC 9110 token characters. */
const headerNamePattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Half of the file-descriptor ceiling any one host offers; the preflight checks the real one. */
const maxConnections = 1_000_000;

export const defaults = {
  durationMs: 10_000,
  connections: 10,
  openConnections: 100,
  maxDelayMs: 10_000,
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  intervalMs: 1000,
  abortOnFailMs: 10_000,
} as const;

/**
 * Turns a parsed YAML (or flag-built) document into a Scenario, or throws a
 * ScenarioError naming the first bad path. Pure.
 */
export function validateScenario(document: unknown, check: Checker): Scenario {
  const scenario = scenarioOf(document, check);
  checkRequestNames(scenario, check);
  return scenario;
}

function scenarioOf(document: unknown, check: Checker): Scenario {
  const root = check.mapping(document ?? {}, [], [...topKeys, ...sessionTopKeys]);
  const protocol = root.protocol ?? 'http';
  if (protocol !== 'http' && protocol !== 'ws' && protocol !== 'socketio') {
    check.fail(['protocol'], `expected one of ${protocolNames.map((name) => `"${name}"`).join(', ')}, got ${describe(root.protocol)}`);
  }
  if (protocol !== 'http') return sessionScenarioOf(root, protocol, check);
  if (root.flow !== undefined) return journeyScenarioOf(root, check);
  for (const key of sessionTopKeys) {
    if (root[key] !== undefined) check.fail([key], 'applies to long-connection scenarios: set protocol to "ws" or "socketio"', 'key');
  }
  const target = targetOf(root.target, check);
  return {
    name: root.name === undefined ? undefined : check.string(root.name, ['name']),
    protocol: 'http',
    target,
    requests: root.requests === undefined ? [defaultRequest] : requestsOf(root.requests, check),
    load: loadOf(root, check),
    ...commonFieldsOf(root, check),
  };
}

/** The keys every kind of scenario has, validated the same way. */
function commonFieldsOf(root: Record<string, unknown>, check: Checker): Omit<ScenarioBase, 'name' | 'target'> {
  return {
    timeouts: timeoutsOf(root.timeouts, check),
    thresholds: root.thresholds === undefined ? [] : thresholdsOf(root.thresholds, check),
    ...agentsOf(root.agents, check),
    intervalMs: intervalOf(root.interval, check),
    abortOnFailMs: abortOnFailOf(root.abortOnFail, check),
    ...tlsField(root.tls, check),
  };
}

/** `{ tls }` when the scenario sets any, else nothing (plans and results then carry no tls key). */
function tlsField(value: unknown, check: Checker): { tls?: TargetTls } {
  const tls = tlsOf(value, check);
  return tls === undefined ? {} : { tls };
}

const defaultRequest: HttpRequestSpec = { name: defaultRequestName('GET', '/'), method: 'GET', path: '/', headers: {}, body: undefined };

function sessionScenarioOf(root: Record<string, unknown>, protocol: 'ws' | 'socketio', check: Checker): SessionScenario {
  if (root.requests !== undefined) check.fail(['requests'], `applies to protocol "http"; a ${protocol} scenario describes each user's steps under flow`, 'key');
  const load = usersLoadOf(root, check);
  const feederFile = root.feeder === undefined ? undefined : feederFileOf(root.feeder, check);
  const flow = flowOf(root.flow, protocol, sessionDefaults.expectTimeoutMs, feederFile !== undefined, check);
  const socketio = socketioOf(root.socketio, check);
  if (protocol === 'ws' && isRecord(root.broadcast) && root.broadcast.event !== undefined) {
    check.fail(['broadcast', 'event'], 'plain WebSocket messages have no event name: leave it out (any message holding a stamp is a delivery)', 'key');
  }
  if (socketio.eio === 3 && flow.steps.some((step) => step.kind === 'connect' && step.auth !== undefined)) {
    check.fail(['flow'], 'connect.auth needs Engine.IO 4 (Socket.IO v3+): a v2 server takes credentials in an emitted event or the connect URL\'s query');
  }
  return {
    name: root.name === undefined ? undefined : check.string(root.name, ['name']),
    protocol,
    target: sessionTargetOf(root.target, check),
    load,
    flow: flow.steps,
    groups: groupsOf(root.groups, load.users, check),
    reconnect: reconnectOf(root.reconnect, check),
    broadcast: broadcastOf(root.broadcast, protocol === 'socketio' ? flow.stampedEvent : undefined, check),
    connection: connectionOf(root.connection, check),
    socketio,
    // Rows are read by loadScenarioFile, which knows where the scenario file is.
    feeder: feederFile === undefined ? undefined : { file: feederFile, columns: [], rows: [] },
    ...commonFieldsOf(root, check),
  };
}

/** Keys of a long-connection scenario that mean nothing to an HTTP journey. */
const journeyRefusedKeys = ['groups', 'reconnect', 'broadcast', 'connection', 'socketio'] as const;

/**
 * `protocol: http` with a `flow`: virtual users repeat http and sleep steps
 * (captures, checks, feeders, {{iteration}}) until the run ends (closed
 * model), or start iterations at `load.rate` (open model). Runs as protocol
 * `http-flow` on the users' machinery (ramp, templates).
 */
function journeyScenarioOf(root: Record<string, unknown>, check: Checker): SessionScenario {
  if (root.requests !== undefined) check.fail(['requests'], 'give either requests (each connection repeats them) or flow (each user runs its steps), not both', 'key');
  for (const key of journeyRefusedKeys) {
    if (root[key] !== undefined) check.fail([key], 'applies to long-connection scenarios (protocol "ws" or "socketio"), not to an HTTP journey', 'key');
  }
  const withPath = typeof root.target === 'string' && URL.canParse(root.target) ? new URL(root.target) : undefined;
  if (withPath !== undefined && /^https?:$/.test(withPath.protocol) && (withPath.pathname !== '/' || withPath.search !== '')) {
    check.fail(['target'], `an HTTP journey's target is an origin such as "${withPath.origin}": give each http step its path (url: /login)`);
  }
  const feederFile = root.feeder === undefined ? undefined : feederFileOf(root.feeder, check);
  const flow = flowOf(root.flow, 'http-flow', sessionDefaults.expectTimeoutMs, feederFile !== undefined, check);
  const sleepMs = flow.steps.reduce((sum, step) => sum + (step.kind === 'sleep' ? step.durationMs : 0), 0);
  const load = journeyLoadOf(root, sleepMs, check);
  return {
    name: root.name === undefined ? undefined : check.string(root.name, ['name']),
    protocol: 'http-flow',
    target: targetOf(root.target, check),
    load,
    flow: flow.steps,
    groups: { size: load.users },
    reconnect: undefined,
    broadcast: broadcastOf(undefined, undefined, check),
    connection: connectionOf(undefined, check),
    socketio: socketioOf(undefined, check),
    feeder: feederFile === undefined ? undefined : { file: feederFile, columns: [], rows: [] },
    ...commonFieldsOf(root, check),
  };
}

/** A long-connection target: http(s) or ws(s), a path allowed (the default connect URL). */
function sessionTargetOf(value: unknown, check: Checker): string {
  if (value === undefined) check.fail(['target'], 'missing: give the server to load, such as "http://127.0.0.1:3000" (or --target)');
  const text = check.string(value, ['target']);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    check.fail(['target'], `expected a URL such as "http://127.0.0.1:3000" or "ws://127.0.0.1:3100/echo", got ${JSON.stringify(text)}`);
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    check.fail(['target'], `expected an http://, https://, ws:// or wss:// URL, got ${JSON.stringify(text)}`);
  }
  if (url.username !== '' || url.password !== '' || url.hash !== '') {
    check.fail(['target'], `expected a URL without credentials or fragment, got ${JSON.stringify(text)}`);
  }
  return url.toString();
}

/** `agents: 4` (local processes) or `agents: [host:port, host:port*2]` (remote agents to dial). */
function agentsOf(value: unknown, check: Checker): { agents: number | undefined; remoteAgents: readonly string[] } {
  if (value === undefined) return { agents: undefined, remoteAgents: [] };
  if (!Array.isArray(value)) return { agents: check.integer(value, ['agents'], 1, 256), remoteAgents: [] };
  if (value.length === 0) check.fail(['agents'], 'expected at least one HOST:PORT (or a number of local agents)');
  const remoteAgents = value.map((item: unknown, index) => {
    const text = typeof item === 'string' ? item : check.string(item, ['agents', index]);
    if (!/^(\[[0-9a-fA-F:.]+\]|[^\s:/*]+):\d+(\*\d+(\.\d+)?)?$/.test(text)) check.fail(['agents', index], `expected HOST:PORT or HOST:PORT*WEIGHT of a remote agent, got ${JSON.stringify(text)}`);
    return text;
  });
  return { agents: undefined, remoteAgents };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function targetOf(value: unknown, check: Checker): string {
  if (value === undefined) check.fail(['target'], 'missing: give the server to load, such as "http://127.0.0.1:8080" (or --target)');
  const text = check.string(value, ['target']);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    check.fail(['target'], `expected a URL such as "http://127.0.0.1:8080", got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    check.fail(['target'], `expected an http:// or https:// URL, got ${JSON.stringify(text)}`);
  }
  if (url.username !== '' || url.password !== '' || url.hash !== '') {
    check.fail(['target'], `expected an origin without credentials or fragment (send credentials as a header under requests), got ${JSON.stringify(text)}`);
  }
  if (url.pathname !== '/' || url.search !== '') {
    check.fail(['target'], `with requests listed, give the target as an origin such as "${url.origin}" and the path under requests (a full URL is for a scenario without requests, or spear run URL), got ${JSON.stringify(text)}`);
  }
  return url.origin;
}

function requestsOf(value: unknown, check: Checker): HttpRequestSpec[] {
  const items = check.list(value, ['requests']);
  if (items.length === 0) check.fail(['requests'], 'expected at least one request');
  return items.map((item, index) => requestOf(item, ['requests', index], check));
}

function requestOf(value: unknown, path: DocPath, check: Checker): HttpRequestSpec {
  const record = check.mapping(value, path, requestKeys);
  const rawMethod = record.method === undefined ? 'GET' : check.string(record.method, [...path, 'method']);
  if (!methodPattern.test(rawMethod)) check.fail([...path, 'method'], `expected an HTTP method such as "GET", got ${JSON.stringify(rawMethod)}`);
  const method = rawMethod.toUpperCase();
  const requestPath = record.path === undefined ? '/' : check.string(record.path, [...path, 'path']);
  if (!requestPath.startsWith('/')) check.fail([...path, 'path'], `expected a path starting with "/", got ${JSON.stringify(requestPath)}`);
  const headers: Record<string, string> = {};
  if (record.headers !== undefined) {
    const raw = check.mapping(record.headers, [...path, 'headers'], Object.keys(record.headers ?? {}));
    for (const [name, headerValue] of Object.entries(raw)) {
      const valuePath = [...path, 'headers', name];
      if (!headerNamePattern.test(name)) check.fail(valuePath, `expected a header name made of letters, digits and !#$%&'*+-.^_\`|~, got ${JSON.stringify(name)}`, 'key');
      const key = name.toLowerCase();
      if (key in headers) check.fail(valuePath, `header ${JSON.stringify(name)} is given twice (header names ignore case)`, 'key');
      headers[key] = typeof headerValue === 'number' ? String(headerValue) : check.string(headerValue, valuePath);
      const problem = headerValueProblem(headers[key]);
      if (problem !== undefined) check.fail(valuePath, `${problem}: write one value per header, without line breaks`);
    }
  }
  const body = record.body === undefined ? undefined : bodyOf(record.body, [...path, 'body'], check);
  return { name: requestNameOf(record.name, defaultRequestName(method, requestPath), [...path, 'name'], check), method, path: requestPath, headers, body };
}

function bodyOf(value: unknown, path: DocPath, check: Checker): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return check.fail(path, `expected a string or a mapping (sent as JSON), got ${JSON.stringify(value)}`);
}

function loadOf(root: Record<string, unknown>, check: Checker): LoadProfile {
  const load = check.mapping(root.load ?? {}, ['load'], loadKeys);
  const open = load.rate !== undefined || load.stages !== undefined;
  if (!open) {
    if (load.startRate !== undefined) check.fail(['load', 'startRate'], 'only applies with load.stages (the open model\'s ramps)', 'key');
    if (load.maxDelay !== undefined) check.fail(['load', 'maxDelay'], 'only applies to the open model: set load.rate or load.stages too', 'key');
    return {
      model: 'closed',
      connections: load.connections === undefined ? defaults.connections : check.integer(load.connections, ['load', 'connections'], 1, maxConnections),
      pipelining: load.pipelining === undefined ? 1 : check.integer(load.pipelining, ['load', 'pipelining'], 1, 256),
      durationMs: root.duration === undefined ? defaults.durationMs : check.duration(root.duration, ['duration']),
    };
  }
  if (load.pipelining !== undefined) check.fail(['load', 'pipelining'], 'only applies to the closed model (without load.rate or load.stages)', 'key');
  if (load.rate !== undefined && load.stages !== undefined) check.fail(['load', 'stages'], 'give either load.rate (constant) or load.stages (ramping), not both', 'key');
  const connections = load.connections === undefined ? defaults.openConnections : check.integer(load.connections, ['load', 'connections'], 1, maxConnections);
  const maxDelayMs = load.maxDelay === undefined ? defaults.maxDelayMs : check.duration(load.maxDelay, ['load', 'maxDelay'], { maxMs: maxTimeoutMs });
  if (load.rate !== undefined) {
    const ratePerS = rateOf(load.rate, ['load', 'rate'], check);
    if (ratePerS <= 0) check.fail(['load', 'rate'], 'expected a rate above 0/s');
    if (load.startRate !== undefined) check.fail(['load', 'startRate'], 'only applies with load.stages', 'key');
    const durationMs = root.duration === undefined ? defaults.durationMs : check.duration(root.duration, ['duration']);
    return { model: 'open', connections, startRatePerS: ratePerS, stages: [{ durationMs, ratePerS }], maxDelayMs, durationMs };
  }
  if (root.duration !== undefined) check.fail(['duration'], 'not allowed with load.stages: the stages\' durations add up to the run\'s length', 'key');
  const stages = stagesOf(load.stages, check);
  const startRatePerS = load.startRate === undefined ? 0 : rateOf(load.startRate, ['load', 'startRate'], check);
  const durationMs = stages.reduce((sum, stage) => sum + stage.durationMs, 0);
  return { model: 'open', connections, startRatePerS, stages, maxDelayMs, durationMs };
}

function timeoutsOf(value: unknown, check: Checker): Timeouts {
  if (value === undefined) return { connectMs: defaults.connectTimeoutMs, requestMs: defaults.requestTimeoutMs };
  const record = check.mapping(value, ['timeouts'], timeoutKeys);
  return {
    connectMs: record.connect === undefined ? defaults.connectTimeoutMs : check.duration(record.connect, ['timeouts', 'connect'], { maxMs: maxTimeoutMs }),
    requestMs: record.request === undefined ? defaults.requestTimeoutMs : check.duration(record.request, ['timeouts', 'request'], { maxMs: maxTimeoutMs }),
  };
}

function thresholdsOf(value: unknown, check: Checker): Threshold[] {
  return check.list(value, ['thresholds']).map((item, index) => {
    const path = ['thresholds', index];
    const parsed = parseThreshold(check.string(item, path));
    return typeof parsed === 'string' ? check.fail(path, parsed) : parsed;
  });
}

/** `abortOnFail`: a duration, or false (or "off") for never; 10 s when absent. */
function abortOnFailOf(value: unknown, check: Checker): number {
  if (value === undefined) return defaults.abortOnFailMs;
  if (value === false || value === 'off') return 0;
  if (typeof value !== 'string' && typeof value !== 'number') check.fail(['abortOnFail'], `expected a duration such as "10s", or false to never stop early, got ${describe(value)}`);
  return check.duration(value, ['abortOnFail']);
}

/** The report interval: at least minIntervalMs, so agents never flood the coordinator with reports. */
function intervalOf(value: unknown, check: Checker): number {
  return value === undefined ? defaults.intervalMs : check.duration(value, ['interval'], { minMs: minIntervalMs });
}
