import { isIP } from 'node:net';
import type { Checker, DocPath } from './checker.js';
import { describe } from './checker.js';
import type { BroadcastSpec, ConnectionSpec, Groups, ReconnectPolicy, SocketIoSpec, UsersLoad, UserStage } from './flow.js';
import { formatDurationMs, maxDurationMs, maxTimeoutMs, parseRatePerS } from './units.js';

export const usersLoadKeys = ['users', 'connectRate', 'hold', 'stages'] as const;
export const userStageKeys = ['duration', 'users'] as const;
export const groupKeys = ['size'] as const;
export const reconnectKeys = ['attempts', 'initialDelay', 'maxDelay'] as const;
export const broadcastKeys = ['event', 'timeout', 'includeSender'] as const;
export const connectionKeys = ['perMessageDeflate', 'sourceAddresses'] as const;
export const socketioKeys = ['eio', 'path', 'namespace'] as const;

/** Most users of one run. */
export const maxUsers = 10_000_000;

export const sessionDefaults = {
  connectRatePerS: 1000,
  holdMs: 10_000,
  expectTimeoutMs: 10_000,
  broadcastTimeoutMs: 5000,
  reconnectAttempts: 10,
  reconnectInitialMs: 1000,
  reconnectMaxMs: 30_000,
} as const;


/** Validates the `load` of a long-connection scenario. */
export function usersLoadOf(root: Record<string, unknown>, check: Checker): UsersLoad {
  const load = check.mapping(root.load ?? {}, ['load'], [...usersLoadKeys, 'connections', 'rate', 'pipelining', 'maxDelay', 'startRate']);
  for (const key of ['connections', 'rate', 'pipelining', 'maxDelay', 'startRate']) {
    if (load[key] !== undefined) check.fail(['load', key], `applies to protocol "http"; long-connection scenarios set load.users (and load.connectRate or load.stages, load.hold)`, 'key');
  }
  if (root.duration !== undefined) check.fail(['duration'], 'long-connection scenarios last their ramp plus load.hold: set load.hold instead', 'key');
  if (load.users === undefined) check.fail(['load', 'users'], 'missing: how many virtual users to connect, such as 1000');
  const users = check.integer(load.users, ['load', 'users'], 1, maxUsers);
  const holdMs = load.hold === undefined ? sessionDefaults.holdMs : check.duration(load.hold, ['load', 'hold']);
  let stages: UserStage[];
  if (load.stages !== undefined) {
    if (load.connectRate !== undefined) check.fail(['load', 'connectRate'], 'give either load.connectRate or load.stages, not both', 'key');
    stages = check.list(load.stages, ['load', 'stages']).map((item, index) => {
      const path = ['load', 'stages', index];
      const stage = check.mapping(item, path, userStageKeys);
      if (stage.duration === undefined) check.fail(path, 'missing duration');
      if (stage.users === undefined) check.fail(path, 'missing users');
      return { durationMs: check.duration(stage.duration, [...path, 'duration']), users: check.integer(stage.users, [...path, 'users'], 0, users) };
    });
    if (stages.length === 0) check.fail(['load', 'stages'], 'expected at least one stage');
    if (!stages.some((stage) => stage.users === users)) check.fail(['load', 'stages'], `no stage reaches load.users (${users})`);
  } else {
    const rate = load.connectRate === undefined ? sessionDefaults.connectRatePerS : check.parsed(load.connectRate, ['load', 'connectRate'], '"<number>/s"', parseRatePerS);
    if (rate <= 0) check.fail(['load', 'connectRate'], 'expected a rate above 0/s');
    stages = [{ durationMs: Math.ceil((users / rate) * 1000), users }];
  }
  const rampMs = stages.reduce((sum, stage) => sum + stage.durationMs, 0);
  if (rampMs + holdMs > maxDurationMs) {
    check.fail(['load'], `the ramp (${formatDurationMs(rampMs)}) and load.hold (${formatDurationMs(holdMs)}) add up to more than a run may last (${formatDurationMs(maxDurationMs)})`);
  }
  return { model: 'users', users, stages, holdMs, durationMs: rampMs + holdMs };
}

/** `feeder: users.csv` or `feeder: {file: users.csv}`: the CSV file's path. */
export function feederFileOf(value: unknown, check: Checker): string {
  const record = typeof value === 'string' ? { file: value } : check.mapping(value, ['feeder'], ['file']);
  if (record.file === undefined) check.fail(['feeder'], 'missing file: a CSV file with a header row, such as users.csv');
  return check.string(record.file, ['feeder', 'file']);
}

export function groupsOf(value: unknown, users: number, check: Checker): Groups {
  if (value === undefined) return { size: users };
  const groups = check.mapping(value, ['groups'], groupKeys);
  if (groups.size === undefined) check.fail(['groups', 'size'], 'missing: users per group, such as 100');
  return { size: check.integer(groups.size, ['groups', 'size'], 1, maxUsers) };
}

export function reconnectOf(value: unknown, check: Checker): ReconnectPolicy | undefined {
  if (value === undefined || value === false) return undefined;
  const record = check.mapping(value === true ? {} : value, ['reconnect'], reconnectKeys);
  const initialDelayMs = record.initialDelay === undefined ? sessionDefaults.reconnectInitialMs : check.duration(record.initialDelay, ['reconnect', 'initialDelay'], { zero: true, maxMs: maxTimeoutMs });
  const maxDelayMs = record.maxDelay === undefined ? Math.max(initialDelayMs, sessionDefaults.reconnectMaxMs) : check.duration(record.maxDelay, ['reconnect', 'maxDelay'], { zero: true, maxMs: maxTimeoutMs });
  if (maxDelayMs < initialDelayMs) check.fail(['reconnect', 'maxDelay'], 'must not be below reconnect.initialDelay');
  return {
    attempts: record.attempts === undefined ? sessionDefaults.reconnectAttempts : check.integer(record.attempts, ['reconnect', 'attempts'], 1, 1_000_000),
    initialDelayMs,
    maxDelayMs,
  };
}

export function broadcastOf(value: unknown, stampedEvent: string | undefined, check: Checker): BroadcastSpec {
  const record = check.mapping(value ?? {}, ['broadcast'], broadcastKeys);
  if (record.includeSender !== undefined && typeof record.includeSender !== 'boolean') check.fail(['broadcast', 'includeSender'], `expected true or false, got ${describe(record.includeSender)}`);
  return {
    event: record.event === undefined ? stampedEvent : check.string(record.event, ['broadcast', 'event']),
    timeoutMs: record.timeout === undefined ? sessionDefaults.broadcastTimeoutMs : check.duration(record.timeout, ['broadcast', 'timeout'], { maxMs: maxTimeoutMs }),
    includeSender: record.includeSender !== false,
  };
}

export function connectionOf(value: unknown, check: Checker): ConnectionSpec {
  const record = check.mapping(value ?? {}, ['connection'], connectionKeys);
  if (record.perMessageDeflate !== undefined && typeof record.perMessageDeflate !== 'boolean') check.fail(['connection', 'perMessageDeflate'], `expected true or false, got ${describe(record.perMessageDeflate)}`);
  const sources = record.sourceAddresses === undefined ? [] : check.list(record.sourceAddresses, ['connection', 'sourceAddresses']).map((item, index) => {
    const address = check.string(item, ['connection', 'sourceAddresses', index]);
    if (isIP(address) === 0) check.fail(['connection', 'sourceAddresses', index], `expected an IP address of this host, got ${JSON.stringify(address)}`);
    return address;
  });
  return { perMessageDeflate: record.perMessageDeflate === true, sourceAddresses: sources };
}

export function socketioOf(value: unknown, check: Checker): SocketIoSpec {
  const record = check.mapping(value ?? {}, ['socketio'], socketioKeys);
  if (record.eio !== undefined && record.eio !== 3 && record.eio !== 4) {
    check.fail(['socketio', 'eio'], `expected 4 (Socket.IO v3/v4 servers) or 3 (Socket.IO v2, netty-socketio), got ${describe(record.eio)}`);
  }
  const path = record.path === undefined ? '/socket.io/' : check.string(record.path, ['socketio', 'path']);
  if (!path.startsWith('/')) check.fail(['socketio', 'path'], `expected a path starting with "/", got ${JSON.stringify(path)}`);
  const namespace = record.namespace === undefined ? '/' : check.string(record.namespace, ['socketio', 'namespace']);
  if (!namespace.startsWith('/')) check.fail(['socketio', 'namespace'], `expected a namespace starting with "/", got ${JSON.stringify(namespace)}`);
  return { eio: record.eio === 3 ? 3 : 4, path: path.endsWith('/') ? path : `${path}/`, namespace };
}
