import { readFileSync } from 'node:fs';

/** Descriptors an agent keeps for itself: IPC, stdio, timers, DNS, the log. */
export const fdReserve = 64;

/**
 * The hard open-file limit of this process (Linux: /proc/self/limits), or
 * null when it cannot be read. Node raises the soft limit to the hard one at
 * start, so the hard limit is what an agent can really use.
 */
export function readFdLimit(): number | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return null;
  }
  const line = text.split('\n').find((row) => row.startsWith('Max open files'));
  const hard = line?.trim().split(/\s+/)[4];
  if (hard === undefined || hard === 'unlimited') return null;
  const limit = Number(hard);
  return Number.isInteger(limit) ? limit : null;
}

/** Descriptors a plan of `connections` needs on one agent, reserve included. */
export function fdsNeeded(connections: number): number {
  return connections + fdReserve;
}

/**
 * Ephemeral ports one source address has towards one destination
 * (/proc/sys/net/ipv4/ip_local_port_range, inclusive), or null when unknown.
 */
export function readEphemeralPorts(): number | null {
  let text: string;
  try {
    text = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
  } catch {
    return null;
  }
  const [low, high] = text.trim().split(/\s+/).map(Number);
  if (low === undefined || high === undefined || !Number.isInteger(low) || !Number.isInteger(high) || high < low) return null;
  return high - low + 1;
}
