import { WireError } from '../errors.js';

/** Field readers for validating received messages: each throws WireError naming the bad field. */
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

export function string(fields: Fields, key: string, what: string): string {
  const value = fields[key];
  if (typeof value !== 'string') throw new WireError(`${what}.${key}: expected a string`);
  return value;
}

