/**
 * Malformed variants of generated responses for the fuzz bench (MUTATE=1):
 * one small damage each, named after it. They carry no truth: node and
 * spear are compared on outcome kind, status and reuse only, and spear's
 * deliberate leniencies (bare LF, the way it counts the head limit) show up
 * as disagreements of their own mutation kind.
 */
import { makeCase, type Prng, type ResponseCase } from './response-primitives.js';

const mutations = ['replace-head-byte', 'delete-head-byte', 'insert-head-byte', 'drop-cr', 'truncate-and-close', 'change-length-digit', 'duplicate-header-line', 'append-garbage'] as const;
type Mutation = (typeof mutations)[number];

/** Bytes that parsers treat specially. */
const interesting = [0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x00, 0x7f, 0xff, 0x61, 0x30, 0x3b, 0x2c, 0x22];

/** Bytes up to the end of the first head (an interim head when there is one). */
function headLength(bytes: Buffer): number {
  const end = bytes.indexOf('\r\n\r\n');
  return end === -1 ? bytes.length : end + 4;
}

function mutate(rng: Prng, bytes: Buffer, mutation: Mutation): { bytes: Buffer; close: boolean } {
  const head = headLength(bytes);
  const at = rng.int(0, Math.max(0, head - 1));
  const splice = (start: number, remove: number, insert: readonly number[] = []): Buffer => Buffer.concat([bytes.subarray(0, start), Buffer.from(insert), bytes.subarray(start + remove)]);
  switch (mutation) {
    case 'replace-head-byte':
      return { bytes: splice(at, 1, [rng.pick(interesting)]), close: false };
    case 'delete-head-byte':
      return { bytes: splice(at, 1), close: false };
    case 'insert-head-byte':
      return { bytes: splice(at, 0, [rng.pick(interesting)]), close: false };
    case 'drop-cr': {
      const crs: number[] = [];
      for (let index = bytes.indexOf(0x0d); index !== -1; index = bytes.indexOf(0x0d, index + 1)) if (bytes[index + 1] === 0x0a) crs.push(index);
      return crs.length === 0 ? { bytes, close: false } : { bytes: splice(rng.pick(crs), 1), close: false };
    }
    case 'truncate-and-close':
      return { bytes: bytes.subarray(0, rng.int(0, Math.max(0, bytes.length - 1))), close: true };
    case 'change-length-digit': {
      const text = bytes.toString('latin1');
      const digits: number[] = [];
      for (const match of text.matchAll(/(content-length:[ \t]*\d+|\r\n[0-9a-fA-F]+(?=[;\r]))/gi)) digits.push((match.index ?? 0) + match[0].length - 1);
      return digits.length === 0 ? { bytes, close: false } : { bytes: splice(rng.pick(digits), 1, [rng.pick([0x30, 0x31, 0x39, 0x61, 0x46])]), close: false };
    }
    case 'duplicate-header-line': {
      const text = bytes.toString('latin1', 0, head);
      const lines = text.split('\r\n').slice(1, -2);
      if (lines.length === 0) return { bytes, close: false };
      const line = rng.pick(lines);
      const where = text.indexOf('\r\n') + 2;
      return { bytes: splice(where, 0, [...Buffer.from(`${line}\r\n`, 'latin1')]), close: false };
    }
    case 'append-garbage':
      return { bytes: Buffer.concat([bytes, Buffer.from(rng.pick(['garbage', '\r\n', 'HTTP/1.1 200 OK\r\n\r\n', '0\r\n\r\n', ' ']), 'latin1')]), close: false };
  }
}

/** A damaged copy of `source` (its truth dropped), named mut-<index>-<mutation>-<source kind>. */
export function mutatedCase(rng: Prng, source: ResponseCase, index: number): ResponseCase {
  const mutation = rng.pick(mutations);
  const { bytes, close } = mutate(rng, source.bytes, mutation);
  const kind = source.name.replace(/^gen-\d+-/, '');
  return makeCase(rng, `mut-${String(index).padStart(4, '0')}-${mutation}-${kind}`, bytes, { method: source.method, afterWrite: close ? 'close' : source.afterWrite });
}
