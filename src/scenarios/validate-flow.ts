import { headerValueProblem } from '../protocols/http/request-text.js';
import { builtinVariables, variablesIn } from '../sessions/template.js';
import { describe, type Checker, type DocPath } from './checker.js';
import { maxTimeoutMs } from './units.js';
import type { HttpCheck, Step } from './flow.js';
import { defaultRequestName, requestNameOf } from './request-names.js';

export const stepKinds = ['http', 'connect', 'emit', 'send', 'expect', 'join', 'sleep', 'every'] as const;
type StepKind = (typeof stepKinds)[number];
export const stepKeys = {
  http: ['name', 'method', 'url', 'headers', 'body', 'capture', 'check'],
  connect: ['url', 'auth'],
  emit: ['event', 'data', 'ack'],
  send: ['data', 'binary'],
  expect: ['event', 'match', 'contains', 'timeout', 'capture'],
  join: [],
  sleep: ['duration'],
  every: ['interval', 'steps'],
} as const satisfies Record<StepKind, readonly string[]>;

const variableName = /^[A-Za-z_]\w*$/;
const methodPattern = /^[A-Za-z]+$/;

/** What the walk knows at each step: variables defined so far, and whether a connection is open. */
interface FlowState {
  /** `http-flow`: an HTTP user journey (no long connection; the flow repeats until the run ends). */
  readonly protocol: 'ws' | 'socketio' | 'http-flow';
  readonly known: Set<string>;
  connected: boolean;
  /** The event of the first emit whose data holds {{stamp}}: the default broadcast event. */
  stampedEvent: string | undefined;
  readonly expectTimeoutMs: number;
}

/**
 * Validates a flow: every step is a one-key mapping naming its kind, steps
 * fit the protocol (emit for Socket.IO, send for plain WebSocket), nothing
 * is sent before a connect, and every {{variable}} is built in or captured
 * by an earlier step. Pure.
 */
export function flowOf(value: unknown, protocol: 'ws' | 'socketio' | 'http-flow', expectTimeoutMs: number, feeder: boolean, check: Checker): { steps: Step[]; stampedEvent: string | undefined } {
  if (value === undefined) check.fail(['flow'], 'missing: the steps each virtual user runs (connect, emit/send, expect, join, every, ...)');
  const journey = protocol === 'http-flow';
  const known = new Set<string>(builtinVariables);
  if (feeder) known.add('feeder');
  const state: FlowState = { protocol, known, connected: false, stampedEvent: undefined, expectTimeoutMs };
  const steps = stepsOf(value, ['flow'], state, check);
  if (!state.connected && !journey) check.fail(['flow'], 'no connect step: every user needs one long connection');
  return { steps, stampedEvent: state.stampedEvent };
}

function stepsOf(value: unknown, path: DocPath, state: FlowState, check: Checker): Step[] {
  const items = check.list(value, path);
  if (items.length === 0) check.fail(path, 'expected at least one step');
  return items.map((item, index) => stepOf(item, [...path, index], state, check));
}

function stepOf(value: unknown, path: DocPath, state: FlowState, check: Checker): Step {
  if (value === 'join') {
    if (state.protocol === 'http-flow') check.fail(path, 'an HTTP journey (protocol "http" with a flow) has http and sleep steps only; join needs protocol "ws" or "socketio"');
    if (!state.connected) check.fail(path, 'join before any connect step: connect first');
    return { kind: 'join' };
  }
  if (typeof value === 'string' && (stepKinds as readonly string[]).includes(value)) {
    check.fail(path, `a ${value} step is a mapping: write "- ${value}: {...}" (only join may stand alone)`);
  }
  const wrapper = check.mapping(value, path, stepKinds);
  const kinds = Object.keys(wrapper) as StepKind[];
  if (kinds.length !== 1) check.fail(path, `expected one step kind per list item (one of: ${stepKinds.join(', ')}), got ${kinds.length === 0 ? 'none' : kinds.join(' and ')}`);
  const kind = kinds[0]!;
  const at = [...path, kind];
  if (kind === 'join' && wrapper.join !== null && !(typeof wrapper.join === 'object' && Object.keys(wrapper.join as object).length === 0)) {
    check.fail(at, 'join takes no settings: the user joins its own group (groups.size decides which)');
  }
  if (state.protocol === 'http-flow' && kind !== 'http' && kind !== 'sleep') {
    check.fail(at, `an HTTP journey (protocol "http" with a flow) has http and sleep steps only; ${kind} needs protocol "ws" or "socketio"`, 'key');
  }
  const body = check.mapping(wrapper[kind] ?? {}, at, stepKeys[kind]);
  const needsConnection = (): void => {
    if (!state.connected) check.fail(at, `${kind} before any connect step: connect first`, 'key');
  };
  switch (kind) {
    case 'http': {
      if (body.url === undefined) check.fail(at, 'missing url (a path on the target or an absolute URL)');
      const rawMethod = body.method === undefined ? 'GET' : check.string(body.method, [...at, 'method']);
      if (!methodPattern.test(rawMethod)) check.fail([...at, 'method'], `expected an HTTP method such as "GET", got ${JSON.stringify(rawMethod)}`);
      const url = unstamped(template(body.url, [...at, 'url'], state, check), [...at, 'url'], check);
      const step: Step = {
        kind: 'http',
        name: requestNameOf(body.name, defaultRequestName(rawMethod.toUpperCase(), url), [...at, 'name'], check),
        method: rawMethod.toUpperCase(),
        url,
        headers: stringMap(body.headers, [...at, 'headers'], state, check),
        body: body.body === undefined ? undefined : jsonOrText(body.body, [...at, 'body'], state, check),
        capture: captures(body.capture, [...at, 'capture'], check),
        ...(body.check === undefined ? {} : { check: httpCheckOf(body.check, [...at, 'check'], state, check) }),
      };
      for (const name of Object.keys(step.capture)) state.known.add(name);
      return step;
    }
    case 'connect':
      if (body.auth !== undefined && state.protocol !== 'socketio') check.fail([...at, 'auth'], 'only Socket.IO connects carry an auth payload', 'key');
      state.connected = true;
      return {
        kind: 'connect',
        url: body.url === undefined ? undefined : unstamped(template(body.url, [...at, 'url'], state, check), [...at, 'url'], check),
        auth: body.auth === undefined ? undefined : unstamped(json(body.auth, [...at, 'auth'], state, check), [...at, 'auth'], check),
      };
    case 'emit': {
      if (state.protocol !== 'socketio') check.fail(at, 'emit sends Socket.IO events: use send with protocol "ws"', 'key');
      needsConnection();
      if (body.event === undefined) check.fail(at, 'missing event');
      const event = check.string(body.event, [...at, 'event']);
      const data = body.data === undefined ? undefined : json(body.data, [...at, 'data'], state, check);
      if (body.ack !== undefined && typeof body.ack !== 'boolean') check.fail([...at, 'ack'], `expected true or false, got ${describe(body.ack)}`);
      if (data?.includes('{{stamp}}') === true) state.stampedEvent ??= event;
      return { kind: 'emit', event, data, ack: body.ack === true };
    }
    case 'send':
      if (state.protocol !== 'ws') check.fail(at, 'send writes plain WebSocket messages: use emit with protocol "socketio"', 'key');
      needsConnection();
      if (body.data === undefined) check.fail(at, 'missing data');
      if (body.binary !== undefined && typeof body.binary !== 'boolean') check.fail([...at, 'binary'], `expected true or false, got ${describe(body.binary)}`);
      return { kind: 'send', data: jsonOrText(body.data, [...at, 'data'], state, check), binary: body.binary === true };
    case 'expect': {
      needsConnection();
      if (state.protocol === 'socketio' && body.event === undefined) check.fail(at, 'missing event (the Socket.IO event to wait for)');
      if (state.protocol === 'ws' && body.event !== undefined) check.fail([...at, 'event'], 'plain WebSocket messages have no event name: use match or contains', 'key');
      const step: Step = {
        kind: 'expect',
        event: body.event === undefined ? undefined : check.string(body.event, [...at, 'event']),
        match: body.match === undefined ? undefined : matchOf(body.match, [...at, 'match'], state, check),
        contains: body.contains === undefined ? undefined : unstamped(template(check.string(body.contains, [...at, 'contains']), [...at, 'contains'], state, check), [...at, 'contains'], check),
        timeoutMs: body.timeout === undefined ? state.expectTimeoutMs : check.duration(body.timeout, [...at, 'timeout'], { maxMs: maxTimeoutMs }),
        capture: captures(body.capture, [...at, 'capture'], check),
      };
      for (const name of Object.keys(step.capture)) state.known.add(name);
      return step;
    }
    case 'join':
      needsConnection();
      return { kind: 'join' };
    case 'sleep':
      if (body.duration === undefined) check.fail(at, 'missing duration');
      return { kind: 'sleep', durationMs: check.duration(body.duration, [...at, 'duration']) };
    case 'every': {
      if (body.interval === undefined) check.fail(at, 'missing interval (such as "10s")');
      if (body.steps === undefined) check.fail(at, 'missing steps');
      return { kind: 'every', intervalMs: check.duration(body.interval, [...at, 'interval']), steps: stepsOf(body.steps, [...at, 'steps'], state, check) };
    }
  }
}

const httpCheckKeys = ['status', 'match', 'contains', 'onFail'] as const;

/** `check: {status: 200 | [200, 201], match: {...}, contains: "text", onFail: end | continue}` on an http step. */
function httpCheckOf(value: unknown, path: DocPath, state: FlowState, check: Checker): HttpCheck {
  const record = check.mapping(value, path, httpCheckKeys);
  let statuses: number[] | undefined;
  if (record.status !== undefined) {
    const items = Array.isArray(record.status) ? record.status : [record.status];
    if (items.length === 0) check.fail([...path, 'status'], 'expected a status such as 200, or a list of them');
    statuses = items.map((item, index) => check.integer(item, Array.isArray(record.status) ? [...path, 'status', index] : [...path, 'status'], 100, 999));
  }
  return {
    statuses,
    match: record.match === undefined ? undefined : matchOf(record.match, [...path, 'match'], state, check),
    contains: record.contains === undefined ? undefined : unstamped(template(check.string(record.contains, [...path, 'contains']), [...path, 'contains'], state, check), [...path, 'contains'], check),
    ...(continueOnFailOf(record.onFail, [...path, 'onFail'], check) ? { continueOnFail: true } : {}),
  };
}

/** `onFail`: end (the default: a failed step ends the iteration) or continue (it is counted and the next step runs). */
function continueOnFailOf(value: unknown, path: DocPath, check: Checker): boolean {
  if (value === undefined || value === 'end') return false;
  if (value === 'continue') return true;
  return check.fail(path, `expected end (a failed step ends the iteration, the default) or continue (it is counted and the next step runs), got ${JSON.stringify(value)}`);
}

/** An expect's match: any YAML value; its strings may hold variables. */
function matchOf(value: unknown, path: DocPath, state: FlowState, check: Checker): unknown {
  unstamped(JSON.stringify(value), path, check);
  checkVariables(JSON.stringify(value), path, state, check);
  return value;
}

/** {{stamp}} makes a broadcast: only emit and send data carry one. */
function unstamped(text: string, path: DocPath, check: Checker): string {
  if (text.includes('{{stamp}}')) check.fail(path, '{{stamp}} marks a broadcast: use it only in emit or send data, where the server relays it to the group');
  return text;
}

function template(value: unknown, path: DocPath, state: FlowState, check: Checker): string {
  const text = typeof value === 'number' ? String(value) : check.string(value, path);
  checkVariables(text, path, state, check);
  return text;
}

/** A mapping or list is sent as JSON; a string as it is. */
function jsonOrText(value: unknown, path: DocPath, state: FlowState, check: Checker): string {
  if (typeof value === 'object' && value !== null) return json(value, path, state, check);
  return template(value, path, state, check);
}

function json(value: unknown, path: DocPath, state: FlowState, check: Checker): string {
  const text = JSON.stringify(value);
  checkVariables(text, path, state, check);
  return text;
}

function checkVariables(text: string, path: DocPath, state: FlowState, check: Checker): void {
  for (const name of variablesIn(text)) {
    const root = name.split('.')[0]!;
    if (!state.known.has(root)) {
      check.fail(path, `unknown variable {{${name}}} (known here: ${[...state.known].join(', ')}; capture it in an earlier http or expect step)`);
    }
  }
}

function stringMap(value: unknown, path: DocPath, state: FlowState, check: Checker): Record<string, string> {
  if (value === undefined) return {};
  const record = check.mapping(value, path, Object.keys(value ?? {}));
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(record)) {
    out[key.toLowerCase()] = template(item, [...path, key], state, check);
    const problem = headerValueProblem(out[key.toLowerCase()]!);
    if (problem !== undefined) check.fail([...path, key], `${problem}: write one value per header, without line breaks`);
  }
  return out;
}

function captures(value: unknown, path: DocPath, check: Checker): Record<string, string> {
  if (value === undefined) return {};
  const record = check.mapping(value, path, Object.keys(value ?? {}));
  const out: Record<string, string> = {};
  for (const [name, item] of Object.entries(record)) {
    if (!variableName.test(name)) check.fail([...path, name], `expected a variable name (letters, digits, _), got ${JSON.stringify(name)}`, 'key');
    if ((builtinVariables as readonly string[]).includes(name)) check.fail([...path, name], `${name} is a built-in variable: capture under another name`, 'key');
    out[name] = check.string(item, [...path, name]);
  }
  return out;
}
