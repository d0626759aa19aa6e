/**
 * Request names: what per-request statistics (`summary.byRequest`) and
 * per-request thresholds (`requests.<name>.p99 < 200ms`) are keyed by.
 * A scenario's names are its `requests[].name` in order, or its flow's
 * `http` step names in walk order (nested `every` steps included); each
 * request or step is known on agents by its index in that list, never by
 * its text, so recording costs an array index. Pure.
 */
import { formatPath, type Checker, type DocPath } from './checker.js';
import type { Step } from './flow.js';
import type { HttpRequestSpec, Scenario, Threshold } from './scenario.js';

/**
 * Above this many names spear keeps no per-request statistics: each name
 * costs a latency histogram (~94 KB) per agent and on the coordinator, and
 * a scenario listing hundreds of URLs to spread load over a cache wants
 * totals, not a table of hundreds of rows.
 */
export const maxRequestBreakdown = 100;

/** Longest request name, in characters. */
export const maxRequestNameChars = 256;

/** What a request or step is called when the scenario gives no name: "GET /api/items". */
export function defaultRequestName(method: string, pathOrUrl: string): string {
  return `${method} ${pathOrUrl}`;
}

/** The names of a scenario (or of a plan, which carries the same requests or flow), in index order. */
export function requestNamesOf(source: { readonly requests: readonly HttpRequestSpec[] } | { readonly flow: readonly Step[] }): string[] {
  if ('requests' in source) return source.requests.map((request) => request.name);
  const names: string[] = [];
  forEachHttpStep(source.flow, ['flow'], (step) => names.push(step.name));
  return names;
}

/** Whether a run with `count` request names keeps per-request statistics: more than one, at most maxRequestBreakdown. */
export function breaksDownRequests(count: number): boolean {
  return count > 1 && count <= maxRequestBreakdown;
}

/** `name:` of a request or http step: a non-empty string of at most maxRequestNameChars; the default when absent. */
export function requestNameOf(value: unknown, fallback: string, path: DocPath, check: Checker): string {
  if (value === undefined) return fallback;
  const name = typeof value === 'number' ? String(value) : check.string(value, path);
  if (name.trim() === '') check.fail(path, 'expected a name with at least one visible character');
  if (name.length > maxRequestNameChars) check.fail(path, `expected a name of at most ${maxRequestNameChars} characters, got ${name.length}`);
  return name;
}

/**
 * Checks what only the whole scenario shows: request names are unique, and
 * every per-request threshold names a request that exists (and a run that
 * keeps per-request statistics). Throws a ScenarioError naming the path.
 */
export function checkRequestNames(scenario: Scenario, check: Checker): void {
  const seen = new Map<string, DocPath>();
  const claim = (name: string, path: DocPath): void => {
    const first = seen.get(name);
    if (first !== undefined) {
      check.fail(path, `the request name ${JSON.stringify(name)} is already used at ${formatPath(first)}: names must be unique (set name: on one of them)`);
    }
    seen.set(name, path);
  };
  if (scenario.protocol === 'http') scenario.requests.forEach((request, index) => claim(request.name, ['requests', index]));
  else forEachHttpStep(scenario.flow, ['flow'], (step, path) => claim(step.name, path));
  scenario.thresholds.forEach((threshold: Threshold, index) => {
    if (threshold.request === undefined) return;
    if (!seen.has(threshold.request)) {
      const known = [...seen.keys()].map((name) => JSON.stringify(name)).join(', ');
      check.fail(['thresholds', index], `no request is named ${JSON.stringify(threshold.request)} (names: ${known === '' ? 'none' : known})`);
    }
    if (seen.size > maxRequestBreakdown) {
      check.fail(['thresholds', index], `spear keeps per-request statistics for at most ${maxRequestBreakdown} request names; this scenario has ${seen.size}`);
    }
  });
}

/**
 * How a threshold or comparison refers to a request: `requests.login` for
 * a simple name (letters, digits, _ and -), `requests["GET /x"]` (a JSON
 * string) for any other.
 */
export function requestRef(name: string): string {
  return simpleName.test(name) ? `requests.${name}` : `requests[${JSON.stringify(name)}]`;
}

const simpleName = /^[A-Za-z0-9_-]+$/;
const refPattern = /^\s*requests(?:\.([A-Za-z0-9_-]+)|\[("(?:[^"\\]|\\.)*")\])\.(.*)$/s;

/**
 * Splits `requests.login.p99 < 5ms` or `requests["GET /x"].p99 < 5ms` into
 * the request's name and the rest (`p99 < 5ms`); undefined when the text
 * does not start with a request reference. A bad quoted name is a problem.
 */
export function parseRequestRef(text: string): { name: string; rest: string } | string | undefined {
  const match = refPattern.exec(text);
  if (match === null) return undefined;
  const rest = match[3] ?? '';
  if (match[1] !== undefined) return { name: match[1], rest };
  try {
    return { name: JSON.parse(match[2] ?? '') as string, rest };
  } catch {
    return `${JSON.stringify(match[2])} is not a valid quoted name (write it as a JSON string, such as requests["GET /x"])`;
  }
}

function forEachHttpStep(steps: readonly Step[], path: DocPath, visit: (step: Extract<Step, { kind: 'http' }>, path: DocPath) => void): void {
  steps.forEach((step, index) => {
    if (step.kind === 'http') visit(step, [...path, index, 'http']);
    else if (step.kind === 'every') forEachHttpStep(step.steps, [...path, index, 'every', 'steps'], visit);
  });
}
