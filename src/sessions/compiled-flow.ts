import type { ExpectStep, Step } from '../scenarios/flow.js';
import { compileTemplate, type Template } from './template.js';
import { requestNamesOf } from '../scenarios/request-names.js';

/** A flow step with its templates compiled once per agent. */
export type CompiledStep =
  | { readonly kind: 'http'; readonly method: string; readonly url: Template; readonly headers: readonly (readonly [string, Template])[]; readonly body: Template | undefined; readonly bodyJson: boolean; readonly capture: readonly (readonly [string, string])[]; readonly check: CompiledCheck | undefined; /** Index in the run's request names (requestNamesOf), for per-request statistics. */ readonly request: number }
  | { readonly kind: 'connect'; readonly url: Template | undefined; readonly auth: Template | undefined }
  | { readonly kind: 'emit'; readonly event: string; readonly data: Template | undefined; readonly ack: boolean }
  | { readonly kind: 'send'; readonly data: Template; readonly json: boolean; readonly binary: boolean }
  | { readonly kind: 'expect'; readonly step: ExpectStep; readonly contains: Template | undefined; readonly containsBytes: Buffer | undefined; readonly capture: readonly (readonly [string, string])[]; readonly matchTemplate: Template | undefined }
  | { readonly kind: 'join' }
  | { readonly kind: 'sleep'; readonly durationMs: number }
  | { readonly kind: 'every'; readonly intervalMs: number; readonly steps: readonly CompiledStep[] };

/** An http step's check with its templates compiled; `match` is rendered per user only when it holds variables. */
export interface CompiledCheck {
  readonly statuses: readonly number[] | undefined;
  readonly match: unknown;
  readonly matchTemplate: Template | undefined;
  readonly contains: Template | undefined;
  /** A failed step is counted and the flow goes on (`onFail: continue`). */
  readonly continueOnFail: boolean;
}

/** Compiles every template of a flow; `names` are the whole flow's request names (nested steps are compiled with their parent's). */
export function compileFlow(steps: readonly Step[], names: readonly string[] = requestNamesOf({ flow: steps })): CompiledStep[] {
  return steps.map((step) => compileStep(step, names));
}

function compileStep(step: Step, names: readonly string[]): CompiledStep {
  switch (step.kind) {
    case 'http':
      return {
        kind: 'http',
        method: step.method,
        url: compileTemplate(step.url, false),
        headers: Object.entries(step.headers).map(([name, value]) => [name, compileTemplate(value, false)] as const),
        body: step.body === undefined ? undefined : compileTemplate(step.body, isJsonText(step.body)),
        bodyJson: step.body !== undefined && isJsonText(step.body),
        capture: Object.entries(step.capture),
        request: names.indexOf(step.name),
        check: step.check === undefined ? undefined : {
          statuses: step.check.statuses,
          match: step.check.match,
          matchTemplate: templateOfMatch(step.check.match),
          contains: step.check.contains === undefined ? undefined : compileTemplate(step.check.contains, false),
          continueOnFail: step.check.continueOnFail === true,
        },
      };
    case 'connect':
      return {
        kind: 'connect',
        url: step.url === undefined ? undefined : compileTemplate(step.url, false),
        auth: step.auth === undefined ? undefined : compileTemplate(step.auth, true),
      };
    case 'emit':
      return { kind: 'emit', event: step.event, data: step.data === undefined ? undefined : compileTemplate(step.data, true), ack: step.ack };
    case 'send': {
      const json = isJsonText(step.data);
      return { kind: 'send', data: compileTemplate(step.data, json), json, binary: step.binary };
    }
    case 'expect':
      return {
        kind: 'expect',
        step,
        contains: step.contains === undefined ? undefined : compileTemplate(step.contains, false),
        containsBytes: step.contains === undefined ? undefined : Buffer.from(step.contains),
        capture: Object.entries(step.capture),
        // A match with variables is rendered per user when the expect starts.
        matchTemplate: templateOfMatch(step.match),
      };
    case 'join':
      return { kind: 'join' };
    case 'sleep':
      return { kind: 'sleep', durationMs: step.durationMs };
    case 'every':
      return { kind: 'every', intervalMs: step.intervalMs, steps: compileFlow(step.steps, names) };
  }
}

/**
 * Whether the flow's first step other than `http` is a connect: users of
 * such a flow are counted as connecting from the moment they start (ticket
 * requests included), so the handshake cap holds before any `await`.
 */
export function connectsFirst(steps: readonly CompiledStep[]): boolean {
  return steps.find((step) => step.kind !== 'http')?.kind === 'connect';
}

const expectedEventsByFlow = new WeakMap<readonly CompiledStep[], ReadonlySet<string>>();

/**
 * The event names some `expect` of the flow waits for ("" for plain
 * WebSocket messages, which have none), nested steps included: only such
 * messages are worth keeping in a user's inbox. Computed once per flow.
 */
export function expectedEvents(flow: readonly CompiledStep[]): ReadonlySet<string> {
  let events = expectedEventsByFlow.get(flow);
  if (events === undefined) {
    const found = new Set<string>();
    collectExpected(flow, found);
    events = found;
    expectedEventsByFlow.set(flow, events);
  }
  return events;
}

function collectExpected(steps: readonly CompiledStep[], into: Set<string>): void {
  for (const step of steps) {
    if (step.kind === 'expect') into.add(step.step.event ?? '');
    else if (step.kind === 'every') collectExpected(step.steps, into);
  }
}

/** A match value's template when it holds variables (rendered per user), else undefined. */
function templateOfMatch(match: unknown): Template | undefined {
  return match !== undefined && JSON.stringify(match).includes('{{') ? compileTemplate(JSON.stringify(match), true) : undefined;
}

function isJsonText(text: string): boolean {
  const first = text.trimStart()[0];
  return first === '{' || first === '[';
}

/** Deep "has at least these fields" comparison for `expect.match`. */
export function matches(actual: unknown, expected: unknown): boolean {
  if (expected === null || typeof expected !== 'object') {
    // Scalars compare loosely across string/number so "1" matches 1 (servers differ).
    if (typeof expected === 'number' || typeof actual === 'number') return String(actual) === String(expected);
    return actual === expected;
  }
  if (typeof actual !== 'object' || actual === null) return false;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && expected.every((item, index) => matches(actual[index], item));
  }
  const record = actual as Record<string, unknown>;
  return Object.entries(expected as Record<string, unknown>).every(([key, value]) => matches(record[key], value));
}
