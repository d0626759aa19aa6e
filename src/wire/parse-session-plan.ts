import { WireError } from '../errors.js';
import type { BroadcastSpec, ConnectionSpec, Feeder, Groups, ReconnectPolicy, SocketIoSpec, Step, UsersLoad } from '../scenarios/flow.js';
import type { SessionPlan } from '../scenarios/plan.js';
import { number, record, string, type Fields } from './fields.js';
import type { BroadcastReceipt, MembershipChange, SentBroadcast, SessionCounters, SessionHistograms, SessionReport } from './messages.js';

type SessionPart = Omit<SessionPlan, 'agentId' | 'agentCount' | 'target' | 'timeouts' | 'intervalMs'>;

/** The long-connection fields of a received plan, validated. */
export function sessionPlanFields(fields: Fields, protocol: 'ws' | 'socketio'): SessionPart {
  const load = record(fields.load, 'plan.load');
  if (load.model !== 'users') throw new WireError('plan.load.model: expected "users"');
  const flow = fields.flow;
  if (!Array.isArray(flow)) throw new WireError('plan.flow: expected a list');
  return {
    protocol,
    load: usersLoad(load),
    flow: flow.map((step: unknown, index) => stepOf(step, `plan.flow[${index}]`)),
    groups: { size: number(record(fields.groups, 'plan.groups'), 'size', 'plan.groups') } satisfies Groups,
    reconnect: fields.reconnect === undefined ? undefined : reconnect(record(fields.reconnect, 'plan.reconnect')),
    broadcast: broadcast(record(fields.broadcast, 'plan.broadcast')),
    connection: connection(record(fields.connection, 'plan.connection')),
    socketio: socketio(record(fields.socketio, 'plan.socketio')),
    feeder: fields.feeder === undefined ? undefined : feeder(record(fields.feeder, 'plan.feeder')),
  };
}

function feeder(fields: Fields): Feeder {
  const what = 'plan.feeder';
  const rows = fields.rows;
  if (!Array.isArray(rows) || !rows.every((row) => Array.isArray(row) && row.every((cell) => typeof cell === 'string'))) {
    throw new WireError(`${what}.rows: expected lists of strings`);
  }
  return { file: string(fields, 'file', what), columns: strings(fields, 'columns', what), rows: rows as string[][] };
}

function usersLoad(fields: Fields): UsersLoad {
  const what = 'plan.load';
  const stages = fields.stages;
  if (!Array.isArray(stages)) throw new WireError(`${what}.stages: expected a list`);
  return {
    model: 'users',
    users: number(fields, 'users', what),
    holdMs: number(fields, 'holdMs', what),
    durationMs: number(fields, 'durationMs', what),
    stages: stages.map((stage: unknown, index) => {
      const stageFields = record(stage, `${what}.stages[${index}]`);
      return { durationMs: number(stageFields, 'durationMs', `${what}.stages[${index}]`), users: number(stageFields, 'users', `${what}.stages[${index}]`) };
    }),
  };
}

function reconnect(fields: Fields): ReconnectPolicy {
  const what = 'plan.reconnect';
  return { attempts: number(fields, 'attempts', what), initialDelayMs: number(fields, 'initialDelayMs', what), maxDelayMs: number(fields, 'maxDelayMs', what) };
}

function broadcast(fields: Fields): BroadcastSpec {
  const what = 'plan.broadcast';
  return {
    event: fields.event === undefined ? undefined : string(fields, 'event', what),
    timeoutMs: number(fields, 'timeoutMs', what),
    includeSender: boolean(fields, 'includeSender', what),
  };
}

function connection(fields: Fields): ConnectionSpec {
  const what = 'plan.connection';
  return { perMessageDeflate: boolean(fields, 'perMessageDeflate', what), sourceAddresses: strings(fields, 'sourceAddresses', what) };
}

function socketio(fields: Fields): SocketIoSpec {
  const what = 'plan.socketio';
  const eio = number(fields, 'eio', what);
  if (eio !== 3 && eio !== 4) throw new WireError(`${what}.eio: expected 3 or 4`);
  return { eio, path: string(fields, 'path', what), namespace: string(fields, 'namespace', what) };
}

function stepOf(value: unknown, what: string): Step {
  const fields = record(value, what);
  const optionalString = (key: string): string | undefined => (fields[key] === undefined ? undefined : string(fields, key, what));
  switch (fields.kind) {
    case 'http':
      return {
        kind: 'http', method: string(fields, 'method', what), url: string(fields, 'url', what),
        headers: stringMap(fields, 'headers', what), body: optionalString('body'), capture: stringMap(fields, 'capture', what),
      };
    case 'connect':
      return { kind: 'connect', url: optionalString('url'), auth: optionalString('auth') };
    case 'emit':
      return { kind: 'emit', event: string(fields, 'event', what), data: optionalString('data'), ack: boolean(fields, 'ack', what) };
    case 'send':
      return { kind: 'send', data: string(fields, 'data', what), binary: boolean(fields, 'binary', what) };
    case 'expect':
      return {
        kind: 'expect', event: optionalString('event'), match: fields.match, contains: optionalString('contains'),
        timeoutMs: number(fields, 'timeoutMs', what), capture: stringMap(fields, 'capture', what),
      };
    case 'join':
      return { kind: 'join' };
    case 'sleep':
      return { kind: 'sleep', durationMs: number(fields, 'durationMs', what) };
    case 'every': {
      const steps = fields.steps;
      if (!Array.isArray(steps)) throw new WireError(`${what}.steps: expected a list`);
      return { kind: 'every', intervalMs: number(fields, 'intervalMs', what), steps: steps.map((step: unknown, index) => stepOf(step, `${what}.steps[${index}]`)) };
    }
    default:
      throw new WireError(`${what}.kind: unknown step kind ${JSON.stringify(fields.kind)}`);
  }
}

function boolean(fields: Fields, key: string, what: string): boolean {
  const value = fields[key];
  if (typeof value !== 'boolean') throw new WireError(`${what}.${key}: expected true or false`);
  return value;
}

function strings(fields: Fields, key: string, what: string): string[] {
  const value = fields[key];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw new WireError(`${what}.${key}: expected a list of strings`);
  return value as string[];
}

function stringMap(fields: Fields, key: string, what: string): Record<string, string> {
  const map = record(fields[key], `${what}.${key}`);
  for (const [name, value] of Object.entries(map)) {
    if (typeof value !== 'string') throw new WireError(`${what}.${key}.${name}: expected a string`);
  }
  return map as Record<string, string>;
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
    receipts: tuples(fields.receipts, 10, `${what}.receipts`) as BroadcastReceipt[],
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
