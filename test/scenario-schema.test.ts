/**
 * schema/scenario.schema.json against src/scenarios/validate.ts (with
 * validate-sessions.ts and validate-flow.ts for ws and socketio): the schema
 * is for editors and other tools, the validator is the authority. These
 * tests keep the two from drifting: same keys at every level, same
 * defaults, same answer on examples and on hand-picked good and bad files.
 * The schema may be looser (it cannot see step order or which variables a
 * flow captured), never stricter: a file validate.ts accepts must pass it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { ScenarioError } from '../src/errors.js';
import { parseScenario } from '../src/scenarios/load.js';
import { parseThreshold } from '../src/scenarios/threshold.js';
import { parseDurationMs, parseRatePerS } from '../src/scenarios/units.js';
import { defaults, loadKeys, protocolNames, requestKeys, sessionTopKeys, stageKeys, timeoutKeys, topKeys } from '../src/scenarios/validate.js';
import { stepKeys, stepKinds } from '../src/scenarios/validate-flow.js';
import { tlsKeys } from '../src/scenarios/tls-settings.js';
import {
  broadcastKeys, connectionKeys, groupKeys, reconnectKeys, sessionDefaults, socketioKeys, userStageKeys, usersLoadKeys,
} from '../src/scenarios/validate-sessions.js';
import { builtinVariables } from '../src/sessions/template.js';

/** The repository root: the nearest folder above this file holding package.json (works from test/ and build/test/). */
function repoRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error('package.json not found above the test file');
    folder = parent;
  }
  return folder;
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const root = repoRoot();
const schemaFile = join(root, 'schema', 'scenario.schema.json');
const schemaValue: unknown = JSON.parse(readFileSync(schemaFile, 'utf8'));
assert.ok(isRecord(schemaValue), 'the schema is a JSON object');
const schema: Json = schemaValue;

// strictRequired would flag the idiomatic `not: { required: [...] }` of the mutual exclusions.
const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true, allErrors: true });
ajv.addSchema(schema, 'scenario');
const validateDocument = compiled('scenario');

function compiled(ref: string): ValidateFunction {
  const validate = ajv.getSchema(ref);
  assert.ok(validate !== undefined, `schema ${ref} compiles`);
  return validate;
}

function schemaErrors(validate: ValidateFunction, value: unknown): string {
  const errors: readonly ErrorObject[] = validate.errors ?? [];
  return errors.map((error) => `${error.instancePath || '/'} ${error.message ?? ''}`).join('; ');
}

/** Follows local "#/$defs/..." references. */
function resolve(node: unknown): Json {
  assert.ok(isRecord(node), 'schema node is an object');
  const ref = node.$ref;
  if (typeof ref !== 'string') return node;
  assert.ok(ref.startsWith('#/'), `only local references: ${ref}`);
  let target: unknown = schema;
  for (const part of ref.slice(2).split('/')) {
    assert.ok(isRecord(target), `reference ${ref} resolves`);
    target = target[part];
  }
  return resolve(target);
}

function child(node: Json, ...path: string[]): Json {
  let current = node;
  for (const key of path) current = resolve(current[key]);
  return current;
}

function propertyNames(node: Json): string[] {
  const properties = node.properties;
  assert.ok(isRecord(properties), 'node has properties');
  return Object.keys(properties).sort();
}

function sorted(keys: readonly string[]): string[] {
  return [...keys].sort();
}

/** Whether validate.ts (through parseScenario, as `spear run file.yaml` does) accepts the text; the problem path when not. */
function validatorVerdict(text: string): { ok: true } | { ok: false; path: string; message: string } {
  try {
    parseScenario(text, 'case.yaml');
    return { ok: true };
  } catch (error) {
    if (error instanceof ScenarioError) return { ok: false, path: error.path, message: error.message };
    throw error;
  }
}

function assertAcceptedByBoth(text: string, label: string): void {
  const document: unknown = parseYaml(text);
  assert.ok(validateDocument(document), `${label}: schema rejects it: ${schemaErrors(validateDocument, document)}`);
  const verdict = validatorVerdict(text);
  assert.ok(verdict.ok, `${label}: validate.ts rejects it: ${verdict.ok ? '' : verdict.message}`);
}

describe('scenario JSON Schema', () => {
  it('is draft 2020-12 and compiles in strict mode', () => {
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(typeof validateDocument, 'function');
  });

  it('has exactly the keys validate.ts accepts, at every level, and rejects the others', () => {
    const reconnect = (child(schema, 'properties', 'reconnect').oneOf as unknown[]).map(resolve).find((node) => node.type === 'object');
    assert.ok(reconnect !== undefined, 'reconnect has a mapping form');
    const levels: Array<[string, Json, readonly string[]]> = [
      ['top level', schema, [...topKeys, ...sessionTopKeys]],
      ['load (http)', child(schema, '$defs', 'load'), loadKeys],
      ['requests[]', child(schema, 'properties', 'requests', 'items'), requestKeys],
      ['load.stages[] (http)', child(child(schema, '$defs', 'load'), 'properties', 'stages', 'items'), stageKeys],
      ['timeouts', child(schema, 'properties', 'timeouts'), timeoutKeys],
      ['tls', child(schema, 'properties', 'tls'), tlsKeys],
      ['load (ws/socketio)', child(schema, '$defs', 'usersLoad'), usersLoadKeys],
      ['load.stages[] (ws/socketio)', child(child(schema, '$defs', 'usersLoad'), 'properties', 'stages', 'items'), userStageKeys],
      ['groups', child(schema, 'properties', 'groups'), groupKeys],
      ['reconnect', reconnect, reconnectKeys],
      ['broadcast', child(schema, 'properties', 'broadcast'), broadcastKeys],
      ['connection', child(schema, 'properties', 'connection'), connectionKeys],
      ['socketio', child(schema, 'properties', 'socketio'), socketioKeys],
      ...stepKinds.map((kind): [string, Json, readonly string[]] => [`flow step ${kind}`, child(schema, '$defs', `${kind}Step`), stepKeys[kind]]),
      // validate-flow.ts keeps these keys in httpCheckOf (not exported).
      ['flow step http.check', child(child(schema, '$defs', 'httpStep'), 'properties', 'check'), ['status', 'match', 'contains', 'onFail']],
    ];
    for (const [label, node, keys] of levels) {
      assert.deepEqual(propertyNames(node), sorted(keys), `${label}: schema properties match validate.ts`);
      assert.equal(node.additionalProperties, false, `${label}: unknown keys are rejected`);
    }
  });

  it('knows the same protocols, step kinds and built-in variables as validate.ts', () => {
    assert.deepEqual(child(schema, 'properties', 'protocol').enum, [...protocolNames]);
    const alternatives = (child(schema, '$defs', 'step').oneOf as unknown[]).map(resolve);
    const kinds = alternatives.flatMap((node) => (isRecord(node.properties) ? Object.keys(node.properties) : []));
    assert.deepEqual(sorted(kinds), sorted(stepKinds), 'one one-key alternative per step kind');
    for (const node of alternatives.filter((each) => isRecord(each.properties))) {
      assert.equal(node.additionalProperties, false, 'a step is a one-key mapping');
      assert.deepEqual(node.required, Object.keys(node.properties as Json), 'its key is required');
    }
    assert.deepEqual(alternatives.filter((node) => 'const' in node).map((node) => node.const), ['join'], 'only join has a bare-string form');
    for (const kind of ['http', 'expect'] as const) {
      const names = child(child(schema, '$defs', `${kind}Step`), 'properties', 'capture').propertyNames;
      assert.ok(isRecord(names) && isRecord(names.not), `${kind}.capture names exclude the built-ins`);
      assert.deepEqual(sorted(names.not.enum as string[]), sorted(builtinVariables), `${kind}.capture: the built-ins are validate.ts's`);
    }
    // feeder: a path, or a mapping whose only key is file (validate-sessions.ts feederFileOf).
    const feederForms = (child(schema, 'properties', 'feeder').oneOf as unknown[]).map(resolve);
    assert.deepEqual(feederForms.map((node) => node.type), ['string', 'object']);
    assert.deepEqual(propertyNames(feederForms[1]!), ['file']);
    // protocol http without a flow forbids the long-connection keys; with one (a journey) it allows feeder and refuses requests.
    const httpBranches = (schema.allOf as unknown[]).map(resolve)
      .filter((node) => isRecord(node.if) && JSON.stringify(node.if.properties) === '{"protocol":{"const":"http"}}');
    const forbidden = (journey: boolean): string[] => {
      const branch = httpBranches.find((node) => isRecord(node.if) && Array.isArray(node.if.required) === journey);
      assert.ok(branch !== undefined && isRecord(branch.then) && isRecord(branch.then.properties), `an http branch ${journey ? 'with' : 'without'} a flow`);
      return sorted(Object.entries(branch.then.properties).filter(([, value]) => value === false).map(([key]) => key));
    };
    assert.deepEqual(forbidden(false), sorted(sessionTopKeys.filter((key) => key !== 'flow')));
    assert.deepEqual(forbidden(true), sorted(['requests', ...sessionTopKeys.filter((key) => key !== 'flow' && key !== 'feeder')]));
  });

  it('gives every property a title and a description', () => {
    // Constraint subschemas (allOf, anyOf, not, contains, if/then/else) name properties without declaring them.
    const constraints = new Set(['allOf', 'anyOf', 'oneOf', 'not', 'contains', 'if', 'then', 'else']);
    const visit = (node: unknown, where: string): void => {
      if (Array.isArray(node)) {
        node.forEach((item, index) => visit(item, `${where}[${index}]`));
        return;
      }
      if (!isRecord(node)) return;
      if (isRecord(node.properties)) {
        for (const [name, property] of Object.entries(node.properties)) {
          assert.ok(isRecord(property), `${where}.${name} is a schema`);
          const described = typeof property.$ref === 'string' && property.description === undefined ? resolve(property) : property;
          assert.equal(typeof described.title, 'string', `${where}.${name} has a title`);
          assert.equal(typeof described.description, 'string', `${where}.${name} has a description`);
        }
      }
      for (const [key, value] of Object.entries(node)) {
        if (!constraints.has(key)) visit(value, `${where}.${key}`);
      }
    };
    visit(schema, '#');
  });

  it('states the same defaults as validate.ts', () => {
    const load = child(schema, '$defs', 'load');
    const timeouts = child(schema, 'properties', 'timeouts');
    const defaultOf = (node: Json, name: string): unknown => {
      const value = (node.properties as Json)[name];
      assert.ok(isRecord(value), `${name} is a property`);
      assert.ok('default' in value, `${name} states a default`);
      return value.default;
    };
    const durationDefault = (node: Json, name: string): number => {
      const text = defaultOf(node, name);
      assert.ok(typeof text === 'string' || typeof text === 'number', `${name} default is a duration`);
      const ms = parseDurationMs(text);
      assert.ok(ms !== undefined, `${name} default ${String(text)} parses`);
      return ms;
    };
    assert.equal(durationDefault(schema, 'duration'), defaults.durationMs);
    assert.equal(durationDefault(schema, 'interval'), defaults.intervalMs);
    assert.equal(durationDefault(schema, 'abortOnFail'), defaults.abortOnFailMs);
    assert.equal(durationDefault(load, 'maxDelay'), defaults.maxDelayMs);
    assert.equal(durationDefault(timeouts, 'connect'), defaults.connectTimeoutMs);
    assert.equal(durationDefault(timeouts, 'request'), defaults.requestTimeoutMs);
    const connections = (load.properties as Json).connections;
    assert.ok(isRecord(connections) && typeof connections.description === 'string');
    assert.match(connections.description, new RegExp(`\\b${defaults.connections}\\b.*closed`));
    assert.match(connections.description, new RegExp(`\\b${defaults.openConnections}\\b.*open`));

    const users = child(schema, '$defs', 'usersLoad');
    assert.equal(parseRatePerS(defaultOf(users, 'connectRate') as string), sessionDefaults.connectRatePerS);
    assert.equal(durationDefault(users, 'hold'), sessionDefaults.holdMs);
    assert.equal(durationDefault(child(schema, '$defs', 'expectStep'), 'timeout'), sessionDefaults.expectTimeoutMs);
    const broadcast = child(schema, 'properties', 'broadcast');
    assert.equal(durationDefault(broadcast, 'timeout'), sessionDefaults.broadcastTimeoutMs);
    assert.equal(defaultOf(broadcast, 'includeSender'), true);
    const reconnect = (child(schema, 'properties', 'reconnect').oneOf as unknown[]).map(resolve).find((node) => node.type === 'object');
    assert.ok(reconnect !== undefined);
    assert.equal(defaultOf(reconnect, 'attempts'), sessionDefaults.reconnectAttempts);
    assert.equal(durationDefault(reconnect, 'initialDelay'), sessionDefaults.reconnectInitialMs);
    assert.equal(durationDefault(reconnect, 'maxDelay'), sessionDefaults.reconnectMaxMs);
    assert.equal(defaultOf(child(schema, 'properties', 'connection'), 'perMessageDeflate'), false);
    const socketio = child(schema, 'properties', 'socketio');
    assert.deepEqual([defaultOf(socketio, 'eio'), defaultOf(socketio, 'path'), defaultOf(socketio, 'namespace')], [4, '/socket.io/', '/']);
    assert.equal(defaultOf(child(schema, '$defs', 'emitStep'), 'ack'), false);
    assert.equal(defaultOf(child(schema, '$defs', 'sendStep'), 'binary'), false);
    assert.equal(defaultOf(child(schema, '$defs', 'httpStep'), 'method'), 'GET');
  });

  it('validates every example scenario (examples/*.yaml), as validate.ts does', () => {
    const folder = join(root, 'examples');
    const files = existsSync(folder) ? readdirSync(folder).filter((name) => name.endsWith('.yaml') || name.endsWith('.yml')) : [];
    for (const name of files) assertAcceptedByBoth(readFileSync(join(folder, name), 'utf8'), `examples/${name}`);
  });

  it('validates the case-B example (examples/socketio-groups.yaml)', () => {
    const file = join(root, 'examples', 'socketio-groups.yaml');
    assert.ok(existsSync(file), 'examples/socketio-groups.yaml exists');
    const text = readFileSync(file, 'utf8');
    assertAcceptedByBoth(text, 'examples/socketio-groups.yaml');
    const document: unknown = parseYaml(text);
    assert.ok(isRecord(document) && document.protocol === 'socketio' && Array.isArray(document.flow), 'it is a Socket.IO flow');
  });

  describe('agrees with validate.ts', () => {
    const good: Array<[string, string]> = [
      ['target only', 'target: http://127.0.0.1:8080\n'],
      ['abortOnFail: a duration', 'target: http://127.0.0.1:8080\nabortOnFail: 30s\n'],
      ['abortOnFail: false', 'target: http://127.0.0.1:8080\nabortOnFail: false\n'],
      ['abortOnFail: off', 'target: http://127.0.0.1:8080\nabortOnFail: "off"\n'],
      ['target with trailing slash and IPv6 host', 'target: "https://[::1]:8443/"\n'],
      ['one-liner: a target with a path and query, no requests', 'target: http://127.0.0.1:8080/api/items?page=1\nload: { rate: 10/s }\n'],
      ['one-liner: a target with a query only', 'target: http://127.0.0.1:8080?x=1\n'],
      ['closed model with everything', `
name: case A
target: http://127.0.0.1:8080
protocol: http
duration: 1m30s
requests:
  - path: /
  - method: post
    path: /login?next=%2F
    headers: { Content-Type: application/json, X-Retries: 3 }
    body: { user: alice, tags: [a, b] }
  - method: PUT
    path: /raw
    body: plain text
load:
  connections: 1000
  pipelining: 4
timeouts:
  connect: 2s
  request: 500ms
thresholds:
  - p99 < 50ms
  - p99.9 <= 1s
  - p999<1m30s
  - max < 500us
  - mean < 1.5ms
  - errors < 1%
  - errors <= 10
  - requests >= 1000
  - rps > 2000.5
agents: 4
interval: 2.5
`],
      ['https target with every tls key', 'target: https://10.0.0.5:8443\ntls: { insecure: false, ca: certs/ca.pem, cert: client.pem, key: client-key.pem, servername: api.example.com }\n'],
      ['wss target with tls.insecure, empty tls', 'protocol: ws\ntarget: wss://127.0.0.1:3100/echo\nload: { users: 1 }\ntls: { insecure: true }\nflow: [connect: {}]\n'],
      ['tls as nothing', 'target: https://h\ntls:\n'],
      ['numeric durations in seconds', 'target: http://localhost\nduration: 20\ninterval: "0.5"\n'],
      ['open model, constant rate', `
target: http://127.0.0.1:8080
duration: 20s
load: { rate: 20000/s, connections: 200, maxDelay: 250ms }
thresholds: [dropped < 0.5%, dropped < 10, p50 < 5ms]
`],
      ['open model, stages', `
target: http://127.0.0.1:8080
load:
  startRate: 10/sec
  maxDelay: 1s
  stages:
    - { duration: 30s, rate: 300/m }
    - { duration: 1m, rate: 5000/s }
    - { duration: 10s, rate: 0/s }
`],
      ['stages without startRate, per-hour rate', 'target: http://127.0.0.1:8080\nload:\n  stages:\n    - { duration: 1h, rate: 3600/h }\n'],
      ['per-minute rate spelled /min', 'target: http://127.0.0.1:8080\nload: { rate: 120/min }\n'],
      ['http with empty long-connection-free extras', 'target: http://127.0.0.1:8080/?\nprotocol: http\nload:\n'],
      ['ws echo', `
protocol: ws
target: ws://127.0.0.1:3100/echo
load: { users: 100, connectRate: 50/s, hold: 1m }
flow:
  - connect:
  - every:
      interval: 1s
      steps:
        - send: { data: "ping {{user}} {{iteration}}" }
        - expect: { contains: "ping ", timeout: 2s }
        - send: { data: { user: "{{user}}", n: 1 }, binary: true }
        - expect: { match: { user: "{{user}}" }, capture: { echoed: $ } }
        - send: { data: 42 }
        - expect:
`],
      ['ws group broadcast with every session key', `
protocol: ws
target: "wss://push.example.com:8443/broadcast?room=a b"
load:
  users: 30000
  hold: 2h
  stages:
    - { duration: 30s, users: 10000 }
    - { duration: 1m, users: 30000 }
    - { duration: 10s, users: 0 }
    - { duration: 10s, users: 30000 }
groups: { size: 4000 }
reconnect: true
broadcast: { timeout: 2s, includeSender: false }
connection: { perMessageDeflate: true, sourceAddresses: [127.0.0.1, 127.0.0.2, "::1", "fe80::1%eth0"] }
socketio:
timeouts: { connect: 5s, request: 1s }
thresholds: [errors < 1%, saturated < 1]
agents: 4
interval: 5s
flow:
  - connect: { url: "/broadcast?group={{group}}" }
  - join
  - sleep: { duration: 500ms }
  - every:
      interval: 10s
      steps:
        - send: { data: "hello {{stamp}}" }
`],
      ['socketio case B with every step form', `
name: case B
protocol: socketio
target: http://127.0.0.1:3000
socketio: { eio: 4, path: /sio, namespace: /chat }
load: { users: 27000, connectRate: 500/m, hold: 4h }
groups: { size: 100 }
reconnect: { attempts: 1000, initialDelay: 0, maxDelay: 0ms }
broadcast: { event: msg, timeout: 5s }
connection: {}
flow:
  - http:
      method: post
      url: /ticket?userId={{user}}
      headers: { X-Agent: "{{agent}}", X-N: 7 }
      body: { user: "{{user}}", at: "{{time}}", nonce: "{{random}}" }
      capture: { ticket: data, token: data.token }
  - http: { url: 5, body: [1, "{{ticket.url}}"] }
  - connect: { url: "{{ticket.url}}", auth: { token: "{{token}}" } }
  - emit: { event: auth, data: { id: "{{user}}", groupId: "{{group}}", token: "{{token}}" } }
  - expect: { event: auth_result, match: { success: true, user: "{{user}}" }, timeout: 5s, capture: { session: sid } }
  - join:
  - join: {}
  - every:
      interval: 20s
      steps:
        - emit: { event: msg, data: { type: 1, groupId: "{{group}}", content: "{{stamp}}" }, ack: true }
        - expect: { event: msg_result, match: [1, { ok: "1" }], contains: success }
        - every: { interval: 1m, steps: [{ emit: { event: ping, data: null } }] }
`],
      ['ws with a feeder file', `
protocol: ws
target: ws://127.0.0.1:3100/echo
load: { users: 10 }
feeder: users.csv
flow:
  - connect: { url: "/echo?name={{feeder.name}}" }
  - send: { data: { token: "{{feeder.token}}" } }
`],
      ['socketio with a feeder mapping and long-connection thresholds', `
protocol: socketio
target: http://127.0.0.1:3000
load: { users: 10 }
feeder: { file: data/users.csv }
thresholds: [delivery.p99 < 500ms, connect.p99.9 <= 2s, reply.mean < 10ms, lost < 0.1%, lost <= 3, disconnects < 1%, disconnects < 5, neverStarted < 1, neverStarted < 0.5%]
flow:
  - connect: { auth: { token: "{{feeder.token}}" } }
`],
      ['http journey with every journey key', `
name: journey
target: https://api.example.test
protocol: http
duration: 5m
load: { users: 200, connectRate: 20/s }
feeder: accounts.csv
timeouts: { request: 5s }
thresholds: [p99 < 500ms, requests.login.p99 < 200ms, errors < 1%]
tls: { insecure: true }
abortOnFail: 30s
flow:
  - http:
      name: login
      method: POST
      url: /login
      headers: { content-type: application/json }
      body: { user: "{{feeder.name}}", password: "{{feeder.password}}" }
      capture: { token: access_token }
      check: { status: 200 }
  - http:
      name: 7
      url: /items?page={{iteration}}
      headers: { authorization: "Bearer {{token}}" }
      check: { status: [200, 304], match: { ok: true }, contains: "items {{token}}" }
  - sleep: { duration: 500ms }
  - http: { url: /logout, check: {} }
`],
      ['http journey without protocol, user stages and load.hold', `
target: http://127.0.0.1:8080
load: { users: 10, hold: 1m, stages: [{ duration: 10s, users: 10 }] }
flow: [sleep: { duration: 1s }, http: { url: "/x/{{user}}" }]
`],
      ['http journey, open model: iterations per second on users', 'target: http://h\nduration: 1m\nload: { rate: 50/s, users: 100, maxDelay: 2s }\nflow: [http: { url: / }, sleep: { duration: 1s }]\n'],
      ['http journey, open model: stages of rates, default users', 'target: http://h\nload: { startRate: 5/s, stages: [{ duration: 10s, rate: 50/s }, { duration: 20s, rate: 50/s }] }\nflow: [http: { url: / }]\n'],
      ['http journey: duration with user stages', 'target: http://h\nduration: 1m\nload: { users: 2, stages: [{ duration: 1s, users: 2 }] }\nflow: [http: { url: / }]\n'],
      ['ws: http step with a check', 'protocol: ws\ntarget: ws://h/echo\nload: { users: 1 }\nflow: [http: { url: http://h/t, check: { status: 201 } }, connect: {}]\n'],
      ['socketio: connect inside every', `
protocol: socketio
target: https://h
load: { users: 1 }
reconnect: false
broadcast:
flow:
  - every: { interval: 1s, steps: [connect: {}, emit: { event: x }] }
`],
    ];
    for (const [label, text] of good) {
      it(`accepts: ${label}`, () => assertAcceptedByBoth(text, label));
    }

    const base = 'target: http://127.0.0.1:8080\n';
    const ws = 'protocol: ws\ntarget: ws://127.0.0.1:3100/echo\n';
    const wsLoad = 'load: { users: 10 }\n';
    const sio = 'protocol: socketio\ntarget: http://127.0.0.1:3000\nload: { users: 10 }\n';
    const journey = `${base}load: { users: 10 }\n`;
    /** [label, document, the path validate.ts names] */
    const bad: Array<[string, string, string]> = [
      ['unknown top-level key', `${base}users: 10\n`, 'users'],
      ['misspelled load key', `${base}load: { connection: 10 }\n`, 'load.connection'],
      ['unknown request key', `${base}requests: [{ path: /, query: x }]\n`, 'requests[0].query'],
      ['unknown stage key', `${base}load: { stages: [{ duration: 1s, rate: 1/s, hold: 1s }] }\n`, 'load.stages[0].hold'],
      ['unknown timeouts key', `${base}timeouts: { read: 1s }\n`, 'timeouts.read'],
      ['missing target', 'duration: 10s\n', 'target'],
      ['non-URL target', 'target: localhost:8080\n', 'target'],
      ['ftp target', 'target: ftp://example.com\n', 'target'],
      ['port out of range', 'target: http://127.0.0.1:99999\n', 'target'],
      ['target with a path and requests', 'target: http://127.0.0.1:8080/api\nrequests: [{ path: / }]\n', 'target'],
      ['target with a query and requests', 'target: http://127.0.0.1:8080?x=1\nrequests: [{ path: / }]\n', 'target'],
      ['one-liner target with a fragment only', 'target: http://127.0.0.1:8080/#top\n', 'target'],
      ['other protocol', `${base}protocol: mqtt\n`, 'protocol'],
      ['load.rate: fast', `${base}load: { rate: fast }\n`, 'load.rate'],
      ['load.rate as a bare number', `${base}load: { rate: 5000 }\n`, 'load.rate'],
      ['load.rate of zero', `${base}load: { rate: 0/s }\n`, 'load.rate'],
      ['rate per day', `${base}load: { rate: 5/d }\n`, 'load.rate'],
      ['rate and stages together', `${base}load: { rate: 10/s, stages: [{ duration: 1s, rate: 5/s }] }\n`, 'load.stages'],
      ['pipelining with rate', `${base}load: { rate: 10/s, pipelining: 2 }\n`, 'load.pipelining'],
      ['pipelining with stages', `${base}load: { pipelining: 2, stages: [{ duration: 1s, rate: 5/s }] }\n`, 'load.pipelining'],
      ['startRate in the closed model', `${base}load: { startRate: 5/s }\n`, 'load.startRate'],
      ['startRate with a constant rate', `${base}load: { rate: 10/s, startRate: 5/s }\n`, 'load.startRate'],
      ['maxDelay in the closed model', `${base}load: { connections: 5, maxDelay: 1s }\n`, 'load.maxDelay'],
      ['duration with stages', `${base}duration: 10s\nload: { stages: [{ duration: 1s, rate: 5/s }] }\n`, 'duration'],
      ['no stages', `${base}load: { stages: [] }\n`, 'load.stages'],
      ['every stage at 0/s', `${base}load: { stages: [{ duration: 1s, rate: 0/s }, { duration: 2s, rate: 0/m }] }\n`, 'load.stages'],
      ['stage without a rate', `${base}load: { stages: [{ duration: 1s }] }\n`, 'load.stages[0]'],
      ['empty request list', `${base}requests: []\n`, 'requests'],
      ['method with a space', `${base}requests: [{ method: GE T }]\n`, 'requests[0].method'],
      ['path without a slash', `${base}requests: [{ path: index.html }]\n`, 'requests[0].path'],
      ['boolean header value', `${base}requests: [{ headers: { X-Flag: true } }]\n`, 'requests[0].headers.X-Flag'],
      ['numeric body', `${base}requests: [{ method: POST, body: 42 }]\n`, 'requests[0].body'],
      ['blank request name', `${base}requests: [{ name: "  " }]\n`, 'requests[0].name'],
      ['request name of nothing', `${base}requests: [{ name: }]\n`, 'requests[0].name'],
      ['zero connections', `${base}load: { connections: 0 }\n`, 'load.connections'],
      ['fractional connections', `${base}load: { connections: 2.5 }\n`, 'load.connections'],
      ['pipelining above 256', `${base}load: { pipelining: 257 }\n`, 'load.pipelining'],
      ['300 agents', `${base}agents: 300\n`, 'agents'],
      ['zero duration', `${base}duration: 0s\n`, 'duration'],
      ['negative numeric duration', `${base}duration: -5\n`, 'duration'],
      ['duration with a space', `${base}duration: 10 s\n`, 'duration'],
      ['duration in days', `${base}duration: 1d\n`, 'duration'],
      ['zero interval', `${base}interval: 0ms\n`, 'interval'],
      ['threshold with an unknown metric', `${base}thresholds: [p42 < 5ms]\n`, 'thresholds[0]'],
      ['latency threshold without a unit', `${base}thresholds: [p99 < 50]\n`, 'thresholds[0]'],
      ['rps threshold as a percentage', `${base}thresholds: [rps > 5%]\n`, 'thresholds[0]'],
      ['threshold with ==', `${base}thresholds: [errors == 0]\n`, 'thresholds[0]'],
      ['threshold as a number', `${base}thresholds: [5]\n`, 'thresholds[0]'],
      ['thresholds as a mapping', `${base}thresholds: { p99: 5ms }\n`, 'thresholds'],
      ['journey: connect step', `${journey}flow: [http: { url: / }, connect: {}]\n`, 'flow[1].connect'],
      ['journey: every step', `${journey}flow: [http: { url: / }, every: { interval: 1s, steps: [http: { url: / }] }]\n`, 'flow[1].every'],
      ['journey: bare join', `${journey}flow: [join]\n`, 'flow[0]'],
      ['journey: requests and flow', `${journey}requests: [{ path: / }]\nflow: [http: { url: / }]\n`, 'requests'],
      ['journey: groups', `${journey}groups: { size: 1 }\nflow: [http: { url: / }]\n`, 'groups'],
      ['journey: socketio options', `${journey}socketio: {}\nflow: [http: { url: / }]\n`, 'socketio'],
      ['journey: no users', `${base}flow: [http: { url: / }]\n`, 'load.users'],
      ['journey: load.connections', `${base}load: { users: 2, connections: 2 }\nflow: [http: { url: / }]\n`, 'load.connections'],
      ['journey: duration and load.hold', `${base}duration: 1m\nload: { users: 2, hold: 10s }\nflow: [http: { url: / }]\n`, 'load.hold'],
      ['journey open: rate and stages', `${base}load: { rate: 5/s, stages: [{ duration: 1s, rate: 5/s }] }\nflow: [http: { url: / }]\n`, 'load.stages'],
      ['journey open: duration with stages of rates', `${base}duration: 1m\nload: { stages: [{ duration: 1s, rate: 5/s }] }\nflow: [http: { url: / }]\n`, 'duration'],
      ['journey open: load.hold with a rate', `${base}load: { rate: 5/s, hold: 1s }\nflow: [http: { url: / }]\n`, 'load.hold'],
      ['journey open: connectRate with a rate', `${base}load: { rate: 5/s, connectRate: 1/s }\nflow: [http: { url: / }]\n`, 'load.connectRate'],
      ['journey open: startRate with a rate', `${base}load: { rate: 5/s, startRate: 1/s }\nflow: [http: { url: / }]\n`, 'load.startRate'],
      ['journey open: zero users', `${base}load: { rate: 5/s, users: 0 }\nflow: [http: { url: / }]\n`, 'load.users'],
      ['journey: target with a path', `target: http://127.0.0.1:8080/api\nload: { users: 2 }\nflow: [http: { url: / }]\n`, 'target'],
      ['journey: ws target', `target: ws://127.0.0.1:8080\nload: { users: 2 }\nflow: [http: { url: / }]\n`, 'target'],
      ['journey: unknown check key', `${journey}flow: [http: { url: /, check: { code: 200 } }]\n`, 'flow[0].http.check.code'],
      ['journey: check of nothing', `${journey}flow: [http: { url: /, check: }]\n`, 'flow[0].http.check'],
      ['journey: check.status 99', `${journey}flow: [http: { url: /, check: { status: 99 } }]\n`, 'flow[0].http.check.status'],
      ['journey: check.status as text', `${journey}flow: [http: { url: /, check: { status: "200" } }]\n`, 'flow[0].http.check.status'],
      ['journey: check.status of no statuses', `${journey}flow: [http: { url: /, check: { status: [] } }]\n`, 'flow[0].http.check.status'],
      ['journey: check.status list with 1000', `${journey}flow: [http: { url: /, check: { status: [200, 1000] } }]\n`, 'flow[0].http.check.status[1]'],
      ['journey: check.contains a number', `${journey}flow: [http: { url: /, check: { contains: 5 } }]\n`, 'flow[0].http.check.contains'],
      ['journey: check.onFail of another word', `${journey}flow: [http: { url: /, check: { status: 200, onFail: skip } }]\n`, 'flow[0].http.check.onFail'],
      ['journey: http step name of nothing', `${journey}flow: [http: { url: /, name: }]\n`, 'flow[0].http.name'],
      ['groups on http', `${base}groups: { size: 10 }\n`, 'groups'],
      ['socketio options on http', `${base}socketio: { eio: 3 }\n`, 'socketio'],
      ['load.users on http', `${base}load: { users: 10 }\n`, 'load.users'],
      ['http target with ws scheme', 'target: ws://127.0.0.1:8080\n', 'target'],
      ['ws: no users', `${ws}flow: [connect: {}]\n`, 'load.users'],
      ['ws: load.connections', `${ws}load: { users: 10, connections: 5 }\nflow: [connect: {}]\n`, 'load.connections'],
      ['ws: load.rate', `${ws}load: { users: 10, rate: 5/s }\nflow: [connect: {}]\n`, 'load.rate'],
      ['ws: duration', `${ws}duration: 10s\n${wsLoad}flow: [connect: {}]\n`, 'duration'],
      ['ws: requests', `${ws}requests: [{ path: / }]\n${wsLoad}flow: [connect: {}]\n`, 'requests'],
      ['ws: no flow', `${ws}${wsLoad}`, 'flow'],
      ['ws: empty flow', `${ws}${wsLoad}flow: []\n`, 'flow'],
      ['ws: no connect step', `${ws}${wsLoad}flow: [sleep: { duration: 1s }]\n`, 'flow'],
      ['ws: ftp target', `protocol: ws\ntarget: ftp://h/x\n${wsLoad}flow: [connect: {}]\n`, 'target'],
      ['ws: target with credentials', `protocol: ws\ntarget: ws://u:p@h/x\n${wsLoad}flow: [connect: {}]\n`, 'target'],
      ['ws: target with a fragment', `protocol: ws\ntarget: ws://h/x#top\n${wsLoad}flow: [connect: {}]\n`, 'target'],
      ['ws: zero users', `${ws}load: { users: 0 }\nflow: [connect: {}]\n`, 'load.users'],
      ['ws: connectRate 0/s', `${ws}load: { users: 10, connectRate: 0/s }\nflow: [connect: {}]\n`, 'load.connectRate'],
      ['ws: connectRate and stages', `${ws}load: { users: 10, connectRate: 5/s, stages: [{ duration: 1s, users: 10 }] }\nflow: [connect: {}]\n`, 'load.connectRate'],
      ['ws: zero hold', `${ws}load: { users: 10, hold: 0s }\nflow: [connect: {}]\n`, 'load.hold'],
      ['ws: stage without users', `${ws}load: { users: 10, stages: [{ duration: 1s }] }\nflow: [connect: {}]\n`, 'load.stages[0]'],
      ['ws: no stages', `${ws}load: { users: 10, stages: [] }\nflow: [connect: {}]\n`, 'load.stages'],
      ['ws: unknown stage key', `${ws}load: { users: 10, stages: [{ duration: 1s, users: 10, rate: 1/s }] }\nflow: [connect: {}]\n`, 'load.stages[0].rate'],
      ['ws: groups without size', `${ws}${wsLoad}groups: {}\nflow: [connect: {}]\n`, 'groups.size'],
      ['ws: groups of 0', `${ws}${wsLoad}groups: { size: 0 }\nflow: [connect: {}]\n`, 'groups.size'],
      ['ws: groups as nothing', `${ws}${wsLoad}groups:\nflow: [connect: {}]\n`, 'groups'],
      ['ws: reconnect as nothing', `${ws}${wsLoad}reconnect:\nflow: [connect: {}]\n`, 'reconnect'],
      ['ws: reconnect of 0 attempts', `${ws}${wsLoad}reconnect: { attempts: 0 }\nflow: [connect: {}]\n`, 'reconnect.attempts'],
      ['ws: unknown reconnect key', `${ws}${wsLoad}reconnect: { delay: 1s }\nflow: [connect: {}]\n`, 'reconnect.delay'],
      ['ws: broadcast timeout 0', `${ws}${wsLoad}broadcast: { timeout: 0s }\nflow: [connect: {}]\n`, 'broadcast.timeout'],
      ['ws: includeSender as text', `${ws}${wsLoad}broadcast: { includeSender: "no" }\nflow: [connect: {}]\n`, 'broadcast.includeSender'],
      ['ws: source address by name', `${ws}${wsLoad}connection: { sourceAddresses: [localhost] }\nflow: [connect: {}]\n`, 'connection.sourceAddresses[0]'],
      ['ws: source address with a leading zero', `${ws}${wsLoad}connection: { sourceAddresses: [10.0.0.01] }\nflow: [connect: {}]\n`, 'connection.sourceAddresses[0]'],
      ['ws: perMessageDeflate as text', `${ws}${wsLoad}connection: { perMessageDeflate: "yes" }\nflow: [connect: {}]\n`, 'connection.perMessageDeflate'],
      ['ws: emit', `${ws}${wsLoad}flow: [connect: {}, emit: { event: x }]\n`, 'flow[1].emit'],
      ['ws: emit inside every', `${ws}${wsLoad}flow: [connect: {}, every: { interval: 1s, steps: [emit: { event: x }] }]\n`, 'flow[1].every.steps[0].emit'],
      ['ws: connect auth', `${ws}${wsLoad}flow: [connect: { auth: { a: 1 } }]\n`, 'flow[0].connect.auth'],
      ['ws: expect event', `${ws}${wsLoad}flow: [connect: {}, expect: { event: x }]\n`, 'flow[1].expect.event'],
      ['ws: send without data', `${ws}${wsLoad}flow: [connect: {}, send: {}]\n`, 'flow[1].send'],
      ['ws: send of a boolean', `${ws}${wsLoad}flow: [connect: {}, send: { data: true }]\n`, 'flow[1].send.data'],
      ['ws: bare connect', `${ws}${wsLoad}flow: [connect]\n`, 'flow[0]'],
      ['ws: two kinds in one step', `${ws}${wsLoad}flow: [{ connect: {}, join: {} }]\n`, 'flow[0]'],
      ['ws: unknown step kind', `${ws}${wsLoad}flow: [connect: {}, wait: { duration: 1s }]\n`, 'flow[1].wait'],
      ['ws: step as a number', `${ws}${wsLoad}flow: [connect: {}, 5]\n`, 'flow[1]'],
      ['ws: join with a key', `${ws}${wsLoad}flow: [connect: {}, join: { group: 1 }]\n`, 'flow[1].join'],
      ['ws: sleep without duration', `${ws}${wsLoad}flow: [connect: {}, sleep:]\n`, 'flow[1].sleep'],
      ['ws: every without interval', `${ws}${wsLoad}flow: [connect: {}, every: { steps: [join] }]\n`, 'flow[1].every'],
      ['ws: every without steps', `${ws}${wsLoad}flow: [connect: {}, every: { interval: 1s, steps: [] }]\n`, 'flow[1].every.steps'],
      ['ws: expect timeout 0', `${ws}${wsLoad}flow: [connect: {}, expect: { timeout: 0 }]\n`, 'flow[1].expect.timeout'],
      ['ws: expect contains a number', `${ws}${wsLoad}flow: [connect: {}, expect: { contains: 5 }]\n`, 'flow[1].expect.contains'],
      ['ws: http without url', `${ws}${wsLoad}flow: [http: { method: POST }, connect: {}]\n`, 'flow[0].http'],
      ['ws: http method with a space', `${ws}${wsLoad}flow: [http: { url: /, method: GE T }, connect: {}]\n`, 'flow[0].http.method'],
      ['ws: http boolean header', `${ws}${wsLoad}flow: [http: { url: /, headers: { a: true } }, connect: {}]\n`, 'flow[0].http.headers.a'],
      ['ws: http body of nothing', `${ws}${wsLoad}flow: [http: { url: /, body: null }, connect: {}]\n`, 'flow[0].http.body'],
      ['ws: capture into a built-in', `${ws}${wsLoad}flow: [http: { url: /, capture: { user: id } }, connect: {}]\n`, 'flow[0].http.capture.user'],
      ['ws: capture name with a dash', `${ws}${wsLoad}flow: [http: { url: /, capture: { my-token: id } }, connect: {}]\n`, 'flow[0].http.capture.my-token'],
      ['ws: capture path as a number', `${ws}${wsLoad}flow: [http: { url: /, capture: { token: 1 } }, connect: {}]\n`, 'flow[0].http.capture.token'],
      ['socketio: send', `${sio}flow: [connect: {}, send: { data: x }]\n`, 'flow[1].send'],
      ['socketio: expect without event', `${sio}flow: [connect: {}, expect: { match: { a: 1 } }]\n`, 'flow[1].expect'],
      ['socketio: expect of nothing', `${sio}flow: [connect: {}, expect:]\n`, 'flow[1].expect'],
      ['socketio: expect without event inside every', `${sio}flow: [connect: {}, every: { interval: 1s, steps: [expect: {}] }]\n`, 'flow[1].every.steps[0].expect'],
      ['socketio: emit without event', `${sio}flow: [connect: {}, emit: { data: 1 }]\n`, 'flow[1].emit'],
      ['socketio: emit event as a number', `${sio}flow: [connect: {}, emit: { event: 5 }]\n`, 'flow[1].emit.event'],
      ['socketio: ack as text', `${sio}flow: [connect: {}, emit: { event: x, ack: "yes" }]\n`, 'flow[1].emit.ack'],
      ['socketio: eio 5', `${sio}socketio: { eio: 5 }\nflow: [connect: {}]\n`, 'socketio.eio'],
      ['socketio: eio as text', `${sio}socketio: { eio: "4" }\nflow: [connect: {}]\n`, 'socketio.eio'],
      ['socketio: path without a slash', `${sio}socketio: { path: socket.io }\nflow: [connect: {}]\n`, 'socketio.path'],
      ['socketio: namespace without a slash', `${sio}socketio: { namespace: chat }\nflow: [connect: {}]\n`, 'socketio.namespace'],
      ['socketio: broadcast event as a number', `${sio}broadcast: { event: 5 }\nflow: [connect: {}]\n`, 'broadcast.event'],
      ['feeder on http', `${base}feeder: users.csv\n`, 'feeder'],
      ['ws: feeder of nothing', `${ws}${wsLoad}feeder:\nflow: [connect: {}]\n`, 'feeder'],
      ['ws: feeder without file', `${ws}${wsLoad}feeder: {}\nflow: [connect: {}]\n`, 'feeder'],
      ['ws: feeder with another key', `${ws}${wsLoad}feeder: { file: a.csv, delimiter: ";" }\nflow: [connect: {}]\n`, 'feeder.delimiter'],
      ['ws: feeder file as a number', `${ws}${wsLoad}feeder: { file: 5 }\nflow: [connect: {}]\n`, 'feeder.file'],
      ['unknown tls key', `${base}tls: { verify: false }\n`, 'tls.verify'],
      ['tls.insecure as text', `${base}tls: { insecure: "yes" }\n`, 'tls.insecure'],
      ['tls.cert without tls.key', `${base}tls: { cert: client.pem }\n`, 'tls.cert'],
      ['tls.key without tls.cert', `${base}tls: { key: client-key.pem }\n`, 'tls.key'],
      ['tls.ca empty', `${base}tls: { ca: "" }\n`, 'tls.ca'],
      ['tls.servername with a space', `${base}tls: { servername: "api example.com" }\n`, 'tls.servername'],
      ['scoped threshold on a count', `${base}thresholds: [delivery.errors < 1%]\n`, 'thresholds[0]'],
      ['lost threshold with a unit', `${base}thresholds: [lost < 5ms]\n`, 'thresholds[0]'],
      ['abortOnFail: true', `${base}abortOnFail: true\n`, 'abortOnFail'],
      ['abortOnFail: 0s', `${base}abortOnFail: 0s\n`, 'abortOnFail'],
    ];
    for (const [label, text, path] of bad) {
      it(`rejects: ${label}`, () => {
        const document: unknown = parseYaml(text);
        assert.equal(validateDocument(document), false, `${label}: the schema accepts it`);
        const verdict = validatorVerdict(text);
        assert.ok(!verdict.ok, `${label}: validate.ts accepts it`);
        assert.equal(verdict.path, path, `${label}: validate.ts fails elsewhere: ${verdict.message}`);
      });
    }

    /** What only validate.ts sees (step order, captured variables, sums over stages): the schema lets these through. */
    const beyondSchema: Array<[string, string, string]> = [
      ['send before connect', `${ws}${wsLoad}flow: [send: { data: x }, connect: {}]\n`, 'flow[0].send'],
      ['unknown variable', `${ws}${wsLoad}flow: [connect: {}, send: { data: "{{token}}" }]\n`, 'flow[1].send.data'],
      ['variable used before its capture', `${sio}flow: [connect: { url: "{{url}}" }, http: { url: /t, capture: { url: url } }]\n`, 'flow[0].connect.url'],
      ['unknown variable in a match', `${sio}flow: [connect: {}, expect: { event: a, match: { id: "{{nope}}" } }]\n`, 'flow[1].expect.match'],
      ['no stage reaches load.users', `${ws}load: { users: 10, stages: [{ duration: 1s, users: 5 }] }\nflow: [connect: {}]\n`, 'load.stages'],
      ['a stage above load.users', `${ws}load: { users: 10, stages: [{ duration: 1s, users: 11 }, { duration: 1s, users: 10 }] }\nflow: [connect: {}]\n`, 'load.stages[0].users'],
      ['reconnect.maxDelay below initialDelay', `${ws}${wsLoad}reconnect: { initialDelay: 5s, maxDelay: 1s }\nflow: [connect: {}]\n`, 'reconnect.maxDelay'],
      ['a feeder variable without a feeder', `${ws}${wsLoad}flow: [connect: { url: "/?n={{feeder.name}}" }]\n`, 'flow[0].connect.url'],
      ['two requests of one name', `${base}requests: [{ path: /a }, { name: GET /a, path: /b }]\n`, 'requests[1]'],
      ['two http steps of one default name', `${journey}flow: [http: { url: / }, sleep: { duration: 1s }, http: { url: / }]\n`, 'flow[2].http'],
      ['a threshold on an unknown request', `${base}thresholds: [requests.login.p99 < 1s]\n`, 'thresholds[0]'],
      ['journey: a ramp longer than duration', `${base}duration: 10s\nload: { users: 100, connectRate: 1/s }\nflow: [http: { url: / }]\n`, 'duration'],
      ['journey: unknown variable in a check', `${journey}flow: [http: { url: /, check: { contains: "{{nope}}" } }]\n`, 'flow[0].http.check.contains'],
    ];
    for (const [label, text, path] of beyondSchema) {
      it(`rejects, beyond the schema: ${label}`, () => {
        assert.ok(validateDocument(parseYaml(text)), `${label}: the schema now rejects it: move it to the shared list`);
        const verdict = validatorVerdict(text);
        assert.ok(!verdict.ok, `${label}: validate.ts accepts it`);
        assert.equal(verdict.path, path, `${label}: validate.ts fails elsewhere: ${verdict.message}`);
      });
    }
  });

  describe('targets agree with validate.ts', () => {
    const samples = [
      'http://127.0.0.1:8080', 'http://127.0.0.1:8080/', 'https://example.com', 'HTTP://EXAMPLE.COM', 'https://[::1]:8443/', 'http://h?', 'http://h/#',
      'http://h:65535', 'http://h:65536', 'http://h/api', 'http://h/?x=1', 'http://u:p@h', 'http://h#top', 'ftp://h', 'h:80', '',
      'ws://127.0.0.1:3100/echo', 'wss://h/a/b?c=d&e', 'WS://H', 'ws://h/a b', 'ws://h/#', 'ws://u@h/', 'ws://h/x#y', 'ws://h:99999/',
      'https://h:8443/socket?room=1', 'mqtt://h/', 'http://h/?', 'http://h?#', 'http://h//', 'http://h/a b', 'http://h:80/x?y=1&z', 'http://h/#x',
    ];
    /** [scenario kind, the rest of the document]: a full URL is a one-liner only without requests or flow. */
    const kinds: Array<[string, string]> = [
      ['http without requests (one-liner)', ''],
      ['http with requests', 'requests: [{ path: / }]\n'],
      ['http journey', 'load: { users: 1 }\nflow: [http: { url: / }]\n'],
      ['ws', 'protocol: ws\nload: { users: 1 }\nflow: [connect: {}]\n'],
    ];
    for (const [kind, rest] of kinds) {
      it(kind, () => {
        for (const url of samples) {
          const text = `target: ${JSON.stringify(url)}\n${rest}`;
          const verdict = validatorVerdict(text);
          assert.ok(verdict.ok || verdict.path === 'target', `${url}: validate.ts fails elsewhere`);
          assert.equal(validateDocument(parseYaml(text)), verdict.ok, `${kind}: target ${JSON.stringify(url)}: validate.ts says ${verdict.ok ? 'ok' : verdict.message}`);
        }
      });
    }
  });

  describe('unit patterns agree with units.ts and threshold.ts', () => {
    const positiveDuration = compiled('scenario#/$defs/positiveDuration');
    const rate = compiled('scenario#/$defs/rate');
    const positiveRate = compiled('scenario#/$defs/positiveRate');
    const threshold = compiled('scenario#/$defs/threshold');

    it('durations', () => {
      const samples: Array<string | number> = [
        '20s', '1m30s', '250ms', '500us', '500µs', '1h', '2.5s', '1.5m', '0.001us', ' 20s ', '20', '2.5', '0.5', 20, 0.25,
        '0', '0s', '0ms0s', '0.0', 0, -1, '', ' ', 's', '10 s', '1d', '1.s', '.5s', '-5s', '1e3', '20S', '1m 30s', '5sec',
        '30s1m', '1s1s', 'ms', '1us2', '1.5.5s',
      ];
      for (const sample of samples) {
        const ms = parseDurationMs(sample);
        const accepted = ms !== undefined && ms > 0;
        assert.equal(positiveDuration(sample), accepted, `duration ${JSON.stringify(sample)}: units.ts says ${String(ms)}`);
      }
    });

    it('durations from zero (reconnect delays)', () => {
      const duration = compiled('scenario#/$defs/duration');
      const samples: Array<string | number> = ['0', '0s', '0ms0s', 0, 0.5, '1s', '1m30s', '500us', -1, '', 's', '10 s', '1d', '-5s', '1.s', '5sec'];
      for (const sample of samples) {
        const ms = parseDurationMs(sample);
        assert.equal(duration(sample), ms !== undefined, `duration ${JSON.stringify(sample)}: units.ts says ${String(ms)}`);
      }
    });

    it('IP addresses (connection.sourceAddresses), as node:net isIP', () => {
      const ipAddress = compiled('scenario#/$defs/ipAddress');
      const samples = [
        '127.0.0.1', '127.0.0.2', '0.0.0.0', '255.255.255.255', '10.0.0.01', '256.0.0.1', '1.2.3', '1.2.3.4.5', ' 1.2.3.4', 'localhost', '',
        '::', '::1', 'fe80::1', 'fe80::1%eth0', '::ffff:1.2.3.4', '2001:db8::8a2e:370:7334', '2001:db8:0:0:0:0:2:1',
      ];
      for (const sample of samples) {
        if (isIP(sample) === 0) continue; // the schema may be looser than isIP; it must not be stricter
        assert.ok(ipAddress(sample), `IP ${JSON.stringify(sample)}: isIP accepts it`);
      }
      for (const sample of ['10.0.0.01', '256.0.0.1', '1.2.3', 'localhost', '', ' 1.2.3.4', 'example.com']) {
        assert.equal(ipAddress(sample), false, `IP ${JSON.stringify(sample)} is rejected`);
      }
    });

    it('rates', () => {
      const samples: Array<string | number> = [
        '5000/s', '300/m', '10/h', '1/sec', '60/min', '0/s', '0.5/s', ' 5 / s ', '5/ s', '0.0/m', '00/h',
        '5000', 5000, 'fast', '5/d', '5/secs', '-5/s', '5/S', '.5/s', '5./s', '/s', '5/', '5 per s', '1e3/s',
      ];
      for (const sample of samples) {
        const perS = parseRatePerS(sample);
        assert.equal(rate(sample), perS !== undefined, `rate ${JSON.stringify(sample)}: units.ts says ${String(perS)}`);
        assert.equal(positiveRate(sample), perS !== undefined && perS > 0, `positive rate ${JSON.stringify(sample)}: units.ts says ${String(perS)}`);
      }
    });

    it('thresholds', () => {
      const samples = [
        'errors < 0x10', 'errors < 1e3', 'errors < .5', 'errors < 5.', 'errors < +5', 'errors < -0', 'errors < %',
        'delivery.p99 < 500ms', 'connect.p99.9 < 1s', 'reply.mean < 5ms', 'delivery.max <= 2s', 'lost < 0.1%', 'lost <= 0', 'disconnects < 1%',
        'disconnects < 10',
        'delivery.errors < 1%', 'delivery.lost < 1', 'reply.rps > 5', 'delivery.p99 < 5', 'broadcast.p99 < 5ms', 'delivery. p99 < 5ms', 'Delivery.p99 < 5ms',
        'lost < 5ms', 'disconnects > 1%%', 'delivery.p98 < 5ms',
        'p50 < 1ms', 'p75 > 1ms', 'p90 <= 1ms', 'p95 >= 1ms', 'p99 < 50ms', 'p999 < 1s', 'p99.9 < 1s', 'min > 0ms', 'mean < 2.5ms',
        'max < 1m30s', 'max < 500us', 'p99<50ms', '  p99  <  50ms  ', 'errors < 1%', 'errors < 0.5%', 'errors <= 10', 'dropped < 1%',
        'dropped < 0', 'rps >= 1000', 'rps > 2000.5', 'requests > 0',
        'p99 < 50', 'p99 < 50 ms', 'P99 < 50ms', 'p98 < 5ms', 'p99 = 5ms', 'p99 == 5ms', 'p99 =< 5ms', 'p99 < 5msec', 'errors < 1 %',
        'rps > 5%', 'requests > 5%', 'errors < 1%%', 'errors < abc', 'rps > -5', 'rps', '', 'p99 < 5ms and p90 < 2ms', 'p99. < 5ms',
        'p99.99 < 5ms', 'errors < 5ms',
        'saturated < 1', 'saturated <= 0', 'saturated<1', 'saturated < 1%', 'saturated < 1ms', 'saturated == 0', 'generator.saturated < 1',
        'delivery.saturated < 1', 'Saturated < 1', 'saturated < -1',
        'neverStarted < 1', 'neverStarted <= 0.5%', 'neverStarted<1', 'neverstarted < 1', 'NeverStarted < 1', 'never_started < 1',
        'neverStarted < 1ms', 'neverStarted < 1%%', 'connect.neverStarted < 1', 'requests.x.neverStarted < 1', 'P99 < 5ms', 'ERRORS < 1%',
        'requests.login.p99 < 200ms', 'requests["GET /x"].p99.9 < 1s', 'requests["a \\"b\\""].errors < 1%', 'requests.a-b_c.rps >= 10',
        'requests.x.requests > 0', 'requests.x.p99 < 5', 'requests.x.lost < 1%', 'requests.x.delivery.p99 < 5ms', 'requests.p99 < 5ms',
        'requests["x"] .p99 < 5ms', 'requests[x].p99 < 5ms', 'requests.a.b.p99 < 5ms', 'requests.x.rps > 5%',
      ];
      for (const sample of samples) {
        const parsed = parseThreshold(sample);
        assert.equal(threshold(sample), typeof parsed !== 'string', `threshold ${JSON.stringify(sample)}: threshold.ts says ${typeof parsed === 'string' ? parsed : 'ok'}`);
      }
    });
  });
});
