import { WireError } from '../errors.js';

/**
 * Field readers for validating received messages: each throws WireError
 * naming the bad field (`what.key`) and, for bounded readers, the bound.
 * Pure; they allocate nothing beyond the error.
 */
export type Fields = Record<string, unknown>;

export function record(value: unknown, what: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new WireError(`${what}: expected an object`);
  return value as Fields;
}

export function number(fields: Fields, key: string, what: string): number {
  const value = fields[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new WireError(`${what}.${key}: expected a number`);
  return value;
}

/** A finite number in [min, max] (a duration, a rate). */
export function bounded(fields: Fields, key: string, what: string, min: number, max: number): number {
  const value = number(fields, key, what);
  if (value < min || value > max) throw new WireError(`${what}.${key}: expected a number from ${min} to ${max}, got ${value}`);
  return value;
}

/** A finite number above 0 and at most `max` (a duration that must pass). */
export function positive(fields: Fields, key: string, what: string, max: number): number {
  const value = number(fields, key, what);
  if (value <= 0 || value > max) throw new WireError(`${what}.${key}: expected a number above 0 and at most ${max}, got ${value}`);
  return value;
}

/** An integer in [min, max] (a count). */
export function integer(fields: Fields, key: string, what: string, min: number, max: number): number {
  const value = number(fields, key, what);
  if (!Number.isInteger(value) || value < min || value > max) throw new WireError(`${what}.${key}: expected an integer from ${min} to ${max}, got ${value}`);
  return value;
}

/** A string; with `maxChars`, at most that many UTF-16 code units. */
export function string(fields: Fields, key: string, what: string, maxChars?: number): string {
  const value = fields[key];
  if (typeof value !== 'string') throw new WireError(`${what}.${key}: expected a string`);
  if (maxChars !== undefined && value.length > maxChars) throw new WireError(`${what}.${key}: expected at most ${maxChars} characters, got ${value.length}`);
  return value;
}

/** A list of at most `maxItems` (unchecked) items. */
export function list(fields: Fields, key: string, what: string, maxItems: number): unknown[] {
  const value = fields[key];
  if (!Array.isArray(value)) throw new WireError(`${what}.${key}: expected a list`);
  if (value.length > maxItems) throw new WireError(`${what}.${key}: expected at most ${maxItems} items, got ${value.length}`);
  return value as unknown[];
}

/** An object of at most `maxEntries` string values, names and values bounded. */
export function stringMap(fields: Fields, key: string, what: string, maxEntries: number, maxNameChars: number, maxValueChars: number): Record<string, string> {
  const map = record(fields[key], `${what}.${key}`);
  const names = Object.keys(map);
  if (names.length > maxEntries) throw new WireError(`${what}.${key}: expected at most ${maxEntries} entries, got ${names.length}`);
  for (const name of names) {
    if (name.length > maxNameChars) throw new WireError(`${what}.${key}: a name longer than ${maxNameChars} characters`);
    string(map, name, `${what}.${key}`, maxValueChars);
  }
  return map as Record<string, string>;
}
