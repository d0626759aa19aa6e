import { WireError } from '../errors.js';
import { errorSampleChars, errorSampleKeys } from '../metrics/counters.js';
import { bounded, integer, list, number, positive, record, string, stringMap, type Fields } from './fields.js';
import { planLimits } from './limits.js';
import type { AgentPlan } from '../scenarios/plan.js';
import type { HttpRequestSpec, LoadProfile, PemFile, Stage, TargetTls } from '../scenarios/scenario.js';
import { sessionPlanFields, sessionReport } from './parse-session-plan.js';
import { defaultRequestName } from '../scenarios/request-names.js';
import type { AgentHealth, AgentMessage, CoordinatorMessage, IntervalCounters, IntervalHistograms, RequestInterval } from './messages.js';

function counts(fields: Fields, key: string, what: string): Record<string, number> {
  const map = record(fields[key], `${what}.${key}`);
  for (const [name, value] of Object.entries(map)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new WireError(`${what}.${key}.${name}: expected a number`);
  }
  return map as Record<string, number>;
}

function counters(value: unknown): IntervalCounters {
  const what = 'interval.counters';
  const fields = record(value, what);
  return {
    requests: number(fields, 'requests', what),
    bytesRead: number(fields, 'bytesRead', what),
    statuses: counts(fields, 'statuses', what),
    errors: counts(fields, 'errors', what),
    ...(fields.errorSamples === undefined ? {} : { errorSamples: stringMap(fields, 'errorSamples', what, errorSampleKeys, 200, errorSampleChars) }),
    scheduled: number(fields, 'scheduled', what),
    dropped: number(fields, 'dropped', what),
    inFlight: number(fields, 'inFlight', what),
    connections: number(fields, 'connections', what),
  };
}

/** Per-request entries: at most one per request a plan may hold. */
function requestIntervals(value: unknown): RequestInterval[] {
  const what = 'interval.requests';
  if (!Array.isArray(value)) throw new WireError(`${what}: expected a list`);
  if (value.length > planLimits.listItems) throw new WireError(`${what}: expected at most ${planLimits.listItems} entries, got ${value.length}`);
  return value.map((entry: unknown, index) => {
    const at = `${what}[${index}]`;
    const fields = record(entry, at);
    return { requests: number(fields, 'requests', at), statuses: counts(fields, 'statuses', at), errors: counts(fields, 'errors', at), latency: string(fields, 'latency', at) };
  });
}

function histograms(value: unknown): IntervalHistograms {
  const what = 'interval.histograms';
  const fields = record(value, what);
  return { latency: string(fields, 'latency', what), serviceTime: string(fields, 'serviceTime', what), queue: string(fields, 'queue', what) };
}

function health(value: unknown): AgentHealth {
  const what = 'interval.health';
  const fields = record(value, what);
  const delay = record(fields.loopDelayMs, `${what}.loopDelayMs`);
  return {
    loopDelayMs: { p50: number(delay, 'p50', `${what}.loopDelayMs`), p99: number(delay, 'p99', `${what}.loopDelayMs`), max: number(delay, 'max', `${what}.loopDelayMs`) },
    elu: number(fields, 'elu', what),
    cpu: number(fields, 'cpu', what),
    rssMb: number(fields, 'rssMb', what),
    heapMb: number(fields, 'heapMb', what),
    connecting: number(fields, 'connecting', what),
    connectsStarted: number(fields, 'connectsStarted', what),
    connectsBehind: number(fields, 'connectsBehind', what),
    ...(fields.hostCpu === undefined ? {} : { hostCpu: bounded(fields, 'hostCpu', what, 0, 1) }),
  };
}

/** Validates a message an agent sent; throws WireError naming the bad field. */
export function parseAgentMessage(value: unknown): AgentMessage {
  const fields = record(value, 'agent message');
  switch (fields.type) {
    case 'ready':
      return {
        type: 'ready',
        wireVersion: number(fields, 'wireVersion', 'ready'),
        spearVersion: string(fields, 'spearVersion', 'ready'),
        pid: number(fields, 'pid', 'ready'),
        host: typeof fields.host === 'string' ? fields.host.slice(0, 255) : undefined,
        fdLimit: fields.fdLimit === null ? null : number(fields, 'fdLimit', 'ready'),
      };
    case 'planned':
      return { type: 'planned', agentId: number(fields, 'agentId', 'planned') };
    case 'interval':
      return {
        type: 'interval',
        agentId: number(fields, 'agentId', 'interval'),
        index: number(fields, 'index', 'interval'),
        startMs: number(fields, 'startMs', 'interval'),
        endMs: number(fields, 'endMs', 'interval'),
        counters: counters(fields.counters),
        histograms: histograms(fields.histograms),
        ...(fields.sessions === undefined ? {} : { sessions: sessionReport(fields.sessions) }),
        ...(fields.requests === undefined ? {} : { requests: requestIntervals(fields.requests) }),
        health: health(fields.health),
      };
    case 'heartbeat':
      return { type: 'heartbeat', loadSilentMs: number(fields, 'loadSilentMs', 'heartbeat'), lastInterval: number(fields, 'lastInterval', 'heartbeat') };
    case 'pong':
      return {
        type: 'pong',
        id: number(fields, 'id', 'pong'),
        receivedUs: number(fields, 'receivedUs', 'pong'),
        sentUs: number(fields, 'sentUs', 'pong'),
      };
    case 'done':
      return { type: 'done', agentId: number(fields, 'agentId', 'done') };
    case 'failed':
      return { type: 'failed', code: string(fields, 'code', 'failed'), message: string(fields, 'message', 'failed') };
    default:
      throw new WireError(`agent message: unknown type ${JSON.stringify(fields.type)}`);
  }
}

/** Validates a message from the coordinator; throws WireError naming the bad field. */
export function parseCoordinatorMessage(value: unknown): CoordinatorMessage {
  const fields = record(value, 'coordinator message');
  switch (fields.type) {
    case 'plan':
      return { type: 'plan', wireVersion: number(fields, 'wireVersion', 'plan'), plan: plan(fields.plan) };
    case 'start':
      return { type: 'start', atMs: number(fields, 'atMs', 'start') };
    case 'stop':
      return { type: 'stop' };
    case 'ping':
      return { type: 'ping', id: number(fields, 'id', 'ping') };
    case 'clock':
      return { type: 'clock', offsetUs: number(fields, 'offsetUs', 'clock'), uncertaintyUs: number(fields, 'uncertaintyUs', 'clock') };
    default:
      throw new WireError(`coordinator message: unknown type ${JSON.stringify(fields.type)}`);
  }
}

/**
 * A plan, checked for types and bounds (see `planLimits` in limits.ts):
 * nothing in it can make the agent allocate without bound, overflow a timer
 * or spin its loop.
 */
function plan(value: unknown): AgentPlan {
  const what = 'plan';
  const fields = record(value, what);
  const timeouts = record(fields.timeouts, 'plan.timeouts');
  const agentCount = integer(fields, 'agentCount', what, 1, planLimits.agents);
  const base = {
    agentId: integer(fields, 'agentId', what, 0, agentCount - 1),
    agentCount,
    target: string(fields, 'target', what, planLimits.urlChars),
    timeouts: {
      connectMs: positive(timeouts, 'connectMs', 'plan.timeouts', planLimits.durationMs),
      requestMs: positive(timeouts, 'requestMs', 'plan.timeouts', planLimits.durationMs),
    },
    intervalMs: bounded(fields, 'intervalMs', what, planLimits.minIntervalMs, planLimits.durationMs),
    ...(fields.tls === undefined ? {} : { tls: targetTls(record(fields.tls, 'plan.tls')) }),
  };
  if (fields.protocol === 'ws' || fields.protocol === 'socketio' || fields.protocol === 'http-flow') return { ...base, ...sessionPlanFields(fields, fields.protocol) };
  if (fields.protocol !== 'http') throw new WireError('plan.protocol: expected "http", "http-flow", "ws" or "socketio"');
  const requests = list(fields, 'requests', what, planLimits.listItems);
  if (requests.length === 0) throw new WireError('plan.requests: expected a non-empty list');
  return { ...base, protocol: 'http', requests: requests.map(request), load: load(fields.load) };
}

/** Types and sizes only: whether the PEM loads is checked where the agent builds its context (targetTlsOptions). */
function targetTls(fields: Record<string, unknown>): TargetTls {
  const what = 'plan.tls';
  if (typeof fields.insecure !== 'boolean') throw new WireError(`${what}.insecure: expected true or false`);
  const pem = (key: string): PemFile | undefined => {
    if (fields[key] === undefined) return undefined;
    const file = record(fields[key], `${what}.${key}`);
    return { file: string(file, 'file', `${what}.${key}`, planLimits.textChars), pem: string(file, 'pem', `${what}.${key}`, planLimits.pemChars) };
  };
  return {
    insecure: fields.insecure,
    ca: pem('ca'),
    cert: pem('cert'),
    key: pem('key'),
    servername: fields.servername === undefined ? undefined : string(fields, 'servername', what, planLimits.nameChars),
  };
}

function request(value: unknown, index: number): HttpRequestSpec {
  const what = `plan.requests[${index}]`;
  const fields = record(value, what);
  const method = string(fields, 'method', what, planLimits.nameChars);
  const path = string(fields, 'path', what, planLimits.urlChars);
  return {
    // A coordinator that predates request names sends none: the default name.
    name: fields.name === undefined ? defaultRequestName(method, path) : string(fields, 'name', what, planLimits.requestNameChars),
    method,
    path,
    headers: stringMap(fields, 'headers', what, planLimits.mapEntries, planLimits.nameChars, planLimits.urlChars),
    body: fields.body === undefined ? undefined : string(fields, 'body', what, planLimits.bodyChars),
  };
}

function load(value: unknown): LoadProfile {
  const what = 'plan.load';
  const fields = record(value, what);
  const connections = integer(fields, 'connections', what, 1, planLimits.connections);
  const durationMs = positive(fields, 'durationMs', what, planLimits.durationMs);
  if (fields.model === 'closed') {
    const pipelining = integer(fields, 'pipelining', what, 1, planLimits.pipelining);
    if (connections * pipelining > planLimits.requestSlots) {
      throw new WireError(`${what}: connections × pipelining (${connections} × ${pipelining}) is above the limit of ${planLimits.requestSlots} request slots per agent`);
    }
    return { model: 'closed', connections, durationMs, pipelining };
  }
  if (fields.model !== 'open') throw new WireError(`${what}.model: expected "closed" or "open"`);
  const stages = list(fields, 'stages', what, planLimits.listItems);
  if (stages.length === 0) throw new WireError(`${what}.stages: expected at least one stage`);
  return {
    model: 'open',
    connections,
    durationMs,
    startRatePerS: bounded(fields, 'startRatePerS', what, 0, planLimits.ratePerS),
    maxDelayMs: positive(fields, 'maxDelayMs', what, planLimits.durationMs),
    stages: stages.map((stage: unknown, index): Stage => {
      const at = `${what}.stages[${index}]`;
      const stageFields = record(stage, at);
      return {
        durationMs: positive(stageFields, 'durationMs', at, planLimits.durationMs),
        ratePerS: bounded(stageFields, 'ratePerS', at, 0, planLimits.ratePerS),
      };
    }),
  };
}
