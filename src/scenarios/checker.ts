import { ScenarioError } from '../errors.js';
import { formatDurationMs, maxDurationMs, parseDurationMs } from './units.js';

/** A path into the scenario document: keys and sequence indexes. */
export type DocPath = readonly (string | number)[];

/** Where a path's key or value sits, as `file:line`; undefined when unknown. */
export type Locate = (path: DocPath, part: 'key' | 'value') => string | undefined;

/** Formats a path the way users read it: `load.stages[1].rate`. */
export function formatPath(path: DocPath): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? part : `.${part}`;
  }
  return text;
}

/** Shows a bad value in an error: strings quoted, the rest as JSON. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

/**
 * Narrows untyped document values, throwing a ScenarioError that names the
 * path and line of the first problem. Pure; never logs.
 */
export class Checker {
  readonly #locate: Locate;

  constructor(locate: Locate) {
    this.#locate = locate;
  }

  fail(path: DocPath, problem: string, part: 'key' | 'value' = 'value'): never {
    throw new ScenarioError(formatPath(path), problem, this.#locate(path, part));
  }

  /** A mapping whose keys are all in `allowed`; unknown keys are errors. */
  mapping(value: unknown, path: DocPath, allowed: readonly string[]): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(path, `expected a mapping, got ${describe(value)}`);
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!allowed.includes(key)) {
        this.fail([...path, key], `unknown key (expected one of: ${allowed.join(', ')})`, 'key');
      }
    }
    return record;
  }

  list(value: unknown, path: DocPath): readonly unknown[] {
    if (!Array.isArray(value)) this.fail(path, `expected a list, got ${describe(value)}`);
    return value as readonly unknown[];
  }

  string(value: unknown, path: DocPath): string {
    if (typeof value !== 'string') this.fail(path, `expected a string, got ${describe(value)}`);
    return value;
  }

  /** An integer in [min, max]. */
  integer(value: unknown, path: DocPath, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.fail(path, `expected an integer, got ${describe(value)}`);
    }
    if (value < min || value > max) {
      this.fail(path, `expected an integer from ${min} to ${max}, got ${value}`);
    }
    return value;
  }

  /**
   * A duration in milliseconds, from `minMs` to `maxMs` (default
   * maxDurationMs: Node timers overflow past 2^31 ms). Above zero unless
   * `zero` is set.
   */
  duration(value: unknown, path: DocPath, options: { zero?: boolean; minMs?: number; maxMs?: number } = {}): number {
    const maxMs = options.maxMs ?? maxDurationMs;
    const ms = this.parsed(value, path, 'a duration such as "20s"', parseDurationMs);
    if (ms <= 0 && options.zero !== true) this.fail(path, `expected a duration above 0, got ${JSON.stringify(value)}`);
    if (options.minMs !== undefined && ms < options.minMs) this.fail(path, `expected a duration of at least ${formatDurationMs(options.minMs)}, got ${JSON.stringify(value)}`);
    if (ms > maxMs) this.fail(path, `expected a duration of at most ${formatDurationMs(maxMs)}, got ${JSON.stringify(value)}`);
    return ms;
  }

  /** Applies `parse` to a string or number; a failed parse names what was expected. */
  parsed<T>(value: unknown, path: DocPath, expected: string, parse: (text: string | number) => T | undefined): T {
    const result = typeof value === 'string' || typeof value === 'number' ? parse(value) : undefined;
    if (result === undefined) this.fail(path, `expected ${expected}, got ${describe(value)}`);
    return result;
  }
}
