import { isIP } from 'node:net';
import { WireError } from '../errors.js';
import { ReceiptRows } from './receipt-rows.js';
import type { BroadcastSpec, ConnectionSpec, Feeder, Groups, HttpCheck, IterationArrivals, ReconnectPolicy, SocketIoSpec, Step, UsersLoad } from '../scenarios/flow.js';
import type { SessionPlan } from '../scenarios/plan.js';
import { bounded, integer, list, number, positive, record, string, stringMap, type Fields } from './fields.js';
import { planLimits } from './limits.js';
import { defaultRequestName } from '../scenarios/request-names.js';
import type { MembershipChange, SentBroadcast, SessionCounters, SessionHistograms, SessionReport } from './messages.js';

type SessionPart = Omit<SessionPlan, 'agentId' | 'agentCount' | 'target' | 'timeouts' | 'intervalMs'>;

const maxMs = planLimits.durationMs;

/** The long-connection fields of a received plan, validated for types and bounds (limits.ts). */
export function sessionPlanFields(fields: Fields, protocol: 'ws' | 'socketio' | 'http-flow'): SessionPart {
  const load = record(fields.load, 'plan.load');
  if (load.model !== 'users') throw new WireError('plan.load.model: expected "users"');
  const steps = { count: 0 };
  return {
    protocol,
    load: usersLoad(load),
    flow: stepsOf(fields, 'flow', 'plan', steps, 1),
    groups: { size: integer(record(fields.groups, 'plan.groups'), 'size', 'plan.groups', 1, planLimits.users) } satisfies Groups,
    reconnect: fields.reconnect === undefined ? undefined : reconnect(record(fields.reconnect, 'plan.reconnect')),
    broadcast: broadcast(record(fields.broadcast, 'plan.broadcast')),
    connection: connection(record(fields.connection, 'plan.connection')),
    socketio: socketio(record(fields.socketio, 'plan.socketio')),
    feeder: fields.feeder === undefined ? undefined : feeder(record(fields.feeder, 'plan.feeder')),
    ...(fields.userWeights === undefined ? {} : { userWeights: userWeights(fields.userWeights, fields.agentCount) }),
  };
}

/**
 * `plan.userWeights`: one whole number per agent (`agentCount`, checked by
 * the caller), each 1 … maxUserWeightPeriod, adding up to at most that:
 * the agent builds tables that long (user-assignment.ts).
 */
function userWeights(value: unknown, agentCount: unknown): number[] {
  const what = 'plan.userWeights';
  const max = planLimits.userWeightPeriod;
  if (!Array.isArray(value) || value.length !== agentCount || !value.every((unit) => Number.isInteger(unit) && (unit as number) >= 1 && (unit as number) <= max)) {
    throw new WireError(`${what}: expected one whole number from 1 to ${max} per agent (agentCount ${String(agentCount)})`);
  }
  const units = value as number[];
  if (units.reduce((sum, unit) => sum + unit, 0) > max) throw new WireError(`${what}: the weights add up to more than ${max}`);
  return units;
}

function feeder(fields: Fields): Feeder {
  const what = 'plan.feeder';
  const columns = strings(fields, 'columns', what, planLimits.feederColumns, planLimits.nameChars);
  const rows = fields.rows;
  const isRow = (row: unknown): boolean => Array.isArray(row) && row.length <= planLimits.feederColumns
    && row.every((cell) => typeof cell === 'string' && cell.length <= planLimits.textChars);
  if (!Array.isArray(rows) || !rows.every(isRow)) {
    throw new WireError(`${what}.rows: expected lists of at most ${planLimits.feederColumns} strings of at most ${planLimits.textChars} characters`);
  }
  return { file: string(fields, 'file', what, planLimits.textChars), columns, rows: rows as string[][] };
}

function usersLoad(fields: Fields): UsersLoad {
  const what = 'plan.load';
  const users = integer(fields, 'users', what, 1, planLimits.users);
  return {
    model: 'users',
    users,
    holdMs: positive(fields, 'holdMs', what, maxMs),
    durationMs: positive(fields, 'durationMs', what, maxMs),
    stages: nonEmpty(list(fields, 'stages', what, planLimits.listItems), `${what}.stages`).map((stage: unknown, index) => {
      const at = `${what}.stages[${index}]`;
      const stageFields = record(stage, at);
      // 0 ms: all at once (an open-model journey's idle users).
      return { durationMs: bounded(stageFields, 'durationMs', at, 0, maxMs), users: integer(stageFields, 'users', at, 0, users) };
    }),
    ...(fields.arrivals === undefined ? {} : { arrivals: iterationArrivals(record(fields.arrivals, `${what}.arrivals`)) }),
  };
}

/** An open-model journey's arrival schedule. */
function iterationArrivals(fields: Fields): IterationArrivals {
  const what = 'plan.load.arrivals';
  return {
    startRatePerS: bounded(fields, 'startRatePerS', what, 0, planLimits.ratePerS),
    maxDelayMs: positive(fields, 'maxDelayMs', what, maxMs),
    stages: nonEmpty(list(fields, 'stages', what, planLimits.listItems), `${what}.stages`).map((stage: unknown, index) => {
      const at = `${what}.stages[${index}]`;
      const stageFields = record(stage, at);
      return { durationMs: positive(stageFields, 'durationMs', at, maxMs), ratePerS: bounded(stageFields, 'ratePerS', at, 0, planLimits.ratePerS) };
    }),
  };
}

function reconnect(fields: Fields): ReconnectPolicy {
  const what = 'plan.reconnect';
  return {
    attempts: integer(fields, 'attempts', what, 1, planLimits.reconnectAttempts),
    initialDelayMs: bounded(fields, 'initialDelayMs', what, 0, maxMs),
    maxDelayMs: bounded(fields, 'maxDelayMs', what, 0, maxMs),
  };
}

function broadcast(fields: Fields): BroadcastSpec {
  const what = 'plan.broadcast';
  return {
    event: fields.event === undefined ? undefined : string(fields, 'event', what, planLimits.nameChars),
    timeoutMs: positive(fields, 'timeoutMs', what, maxMs),
    includeSender: boolean(fields, 'includeSender', what),
  };
}

function connection(fields: Fields): ConnectionSpec {
  const what = 'plan.connection';
  const sources = strings(fields, 'sourceAddresses', what, planLimits.sourceAddresses, planLimits.nameChars);
  sources.forEach((source, index) => {
    if (isIP(source) === 0) throw new WireError(`${what}.sourceAddresses[${index}]: expected an IP address`);
  });
  return { perMessageDeflate: boolean(fields, 'perMessageDeflate', what), sourceAddresses: sources };
}

function socketio(fields: Fields): SocketIoSpec {
  const what = 'plan.socketio';
  const eio = number(fields, 'eio', what);
  if (eio !== 3 && eio !== 4) throw new WireError(`${what}.eio: expected 3 or 4`);
  return { eio, path: string(fields, 'path', what, planLimits.nameChars), namespace: string(fields, 'namespace', what, planLimits.nameChars) };
}

/** `fields[key]`, a list of steps at nesting `depth` (1 = the flow); `steps.count` counts every level. */
function stepsOf(fields: Fields, key: string, what: string, steps: { count: number }, depth: number): Step[] {
  if (depth > planLimits.flowDepth) throw new WireError(`${what}.${key}: every steps nested deeper than ${planLimits.flowDepth} levels`);
  const items = list(fields, key, what, planLimits.flowSteps);
  steps.count += items.length;
  if (steps.count > planLimits.flowSteps) throw new WireError(`${what}.${key}: the flow has more than ${planLimits.flowSteps} steps`);
  return items.map((step: unknown, index) => stepOf(step, `${what}.${key}[${index}]`, steps, depth));
}

function stepOf(value: unknown, what: string, steps: { count: number }, depth: number): Step {
  const fields = record(value, what);
  const optional = (key: string, maxChars: number): string | undefined => (fields[key] === undefined ? undefined : string(fields, key, what, maxChars));
  const map = (key: string): Record<string, string> => stringMap(fields, key, what, planLimits.mapEntries, planLimits.nameChars, planLimits.urlChars);
  switch (fields.kind) {
    case 'http': {
      const method = string(fields, 'method', what, planLimits.nameChars);
      const url = string(fields, 'url', what, planLimits.urlChars);
      return {
        kind: 'http',
        // A coordinator that predates request names sends none: the default name.
        name: fields.name === undefined ? defaultRequestName(method, url) : string(fields, 'name', what, planLimits.requestNameChars),
        method,
        url,
        headers: map('headers'), body: optional('body', planLimits.bodyChars), capture: map('capture'),
        ...(fields.check === undefined ? {} : { check: httpCheck(record(fields.check, `${what}.check`), `${what}.check`) }),
      };
    }
    case 'connect':
      return { kind: 'connect', url: optional('url', planLimits.urlChars), auth: optional('auth', planLimits.bodyChars) };
    case 'emit':
      return { kind: 'emit', event: string(fields, 'event', what, planLimits.nameChars), data: optional('data', planLimits.bodyChars), ack: boolean(fields, 'ack', what) };
    case 'send':
      return { kind: 'send', data: string(fields, 'data', what, planLimits.bodyChars), binary: boolean(fields, 'binary', what) };
    case 'expect':
      checkDepth(fields.match, `${what}.match`);
      return {
        kind: 'expect', event: optional('event', planLimits.nameChars), match: fields.match, contains: optional('contains', planLimits.bodyChars),
        timeoutMs: positive(fields, 'timeoutMs', what, maxMs), capture: map('capture'),
      };
    case 'join':
      return { kind: 'join' };
    case 'sleep':
      return { kind: 'sleep', durationMs: positive(fields, 'durationMs', what, maxMs) };
    case 'every':
      return { kind: 'every', intervalMs: positive(fields, 'intervalMs', what, maxMs), steps: stepsOf(fields, 'steps', what, steps, depth + 1) };
    default:
      throw new WireError(`${what}.kind: unknown step kind ${JSON.stringify(fields.kind)?.slice(0, 100)}`);
  }
}

/**
 * Refuses a JSON value nested deeper than `planLimits.matchDepth` (matching
 * recurses over it). Iterative, so a hostile depth cannot overflow the stack here.
 */
function checkDepth(value: unknown, what: string): void {
  let level: unknown[] = [value];
  for (let depth = 0; level.length > 0; depth += 1) {
    if (depth > planLimits.matchDepth) throw new WireError(`${what}: nested deeper than ${planLimits.matchDepth} levels`);
    const next: unknown[] = [];
    for (const item of level) {
      if (typeof item !== 'object' || item === null) continue;
      // A loop, not push(...values): spreading a huge list would overflow the stack.
      for (const child of Object.values(item)) next.push(child);
    }
    level = next;
  }
}

function nonEmpty(items: unknown[], what: string): unknown[] {
  if (items.length === 0) throw new WireError(`${what}: expected at least one item`);
  return items;
}

function boolean(fields: Fields, key: string, what: string): boolean {
  const value = fields[key];
  if (typeof value !== 'boolean') throw new WireError(`${what}.${key}: expected true or false`);
  return value;
}

/** A list of at most `maxItems` strings of at most `maxChars` each. */
function strings(fields: Fields, key: string, what: string, maxItems: number, maxChars: number): string[] {
  const value = list(fields, key, what, maxItems);
  if (!value.every((item) => typeof item === 'string' && item.length <= maxChars)) throw new WireError(`${what}.${key}: expected a list of strings of at most ${maxChars} characters`);
  return value as string[];
}

const counterKeys: readonly (keyof SessionCounters)[] = [
  'usersStarted', 'opened', 'failed', 'disconnects', 'reconnects', 'connected', 'joined', 'messagesSent', 'messagesReceived',
  'broadcastsSent', 'delivered', 'late', 'duplicated', 'outOfOrder', 'nonMember', 'unexpected', 'allConnectedUs',
];

/** The long-connection part of an interval report, validated. */
export function sessionReport(value: unknown): SessionReport {
  const what = 'interval.sessions';
  const fields = record(value, what);
  const counterFields = record(fields.counters, `${what}.counters`);
  const counters = {} as SessionCounters;
  for (const key of counterKeys) counters[key] = number(counterFields, key, `${what}.counters`);
  const histogramFields = record(fields.histograms, `${what}.histograms`);
  const histograms: SessionHistograms = {
    connect: string(histogramFields, 'connect', `${what}.histograms`),
    reply: string(histogramFields, 'reply', `${what}.histograms`),
    delivery: string(histogramFields, 'delivery', `${what}.histograms`),
  };
  return {
    counters,
    histograms,
    sent: tuples(fields.sent, 4, `${what}.sent`) as SentBroadcast[],
    receipts: ReceiptRows.fromWire(fields.receipts, `${what}.receipts`),
    membership: tuples(fields.membership, 3, `${what}.membership`) as MembershipChange[],
  };
}

/** A list of fixed-length number tuples. */
function tuples(value: unknown, length: number, what: string): number[][] {
  if (!Array.isArray(value)) throw new WireError(`${what}: expected a list`);
  for (const item of value as unknown[]) {
    if (!Array.isArray(item) || item.length !== length || !item.every((field) => typeof field === 'number' && Number.isFinite(field))) {
      throw new WireError(`${what}: expected lists of ${length} numbers`);
    }
  }
  return value as number[][];
}

/** A flow http step's check: statuses, a match value (depth-bounded) and contains text. */
function httpCheck(fields: Fields, what: string): HttpCheck {
  let statuses: number[] | undefined;
  if (fields.statuses !== undefined) {
    if (!Array.isArray(fields.statuses) || fields.statuses.length === 0 || fields.statuses.length > planLimits.listItems) throw new WireError(`${what}.statuses: expected a non-empty list`);
    statuses = fields.statuses.map((status: unknown) => {
      if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 999) throw new WireError(`${what}.statuses: expected statuses 100-999`);
      return status;
    });
  }
  checkDepth(fields.match, `${what}.match`);
  if (fields.contains !== undefined && (typeof fields.contains !== 'string' || fields.contains.length > planLimits.bodyChars)) throw new WireError(`${what}.contains: expected a string`);
  if (fields.continueOnFail !== undefined && typeof fields.continueOnFail !== 'boolean') throw new WireError(`${what}.continueOnFail: expected a boolean`);
  return { statuses, match: fields.match, contains: fields.contains as string | undefined, ...(fields.continueOnFail === true ? { continueOnFail: true } : {}) };
}
