import type { IntervalCounters } from '../wire/messages.js';

/** Status counters per code: statuses 100–999 count as themselves (the HTTP parser refuses others), anything else under 0. */
export const statusSlots = 1000;

/** Counters with nothing counted. */
export function emptyCounters(): IntervalCounters {
  return { requests: 0, bytesRead: 0, statuses: {}, errors: {}, scheduled: 0, dropped: 0, inFlight: 0, connections: 0 };
}

/**
 * Adds `from` into `into`. Counts add; the gauges (inFlight, connections)
 * add too, which is right for agents reporting the same interval and is
 * overwritten by callers that track gauges over time.
 */
export function addCounters(into: IntervalCounters, from: IntervalCounters): void {
  into.requests += from.requests;
  into.bytesRead += from.bytesRead;
  into.scheduled += from.scheduled;
  into.dropped += from.dropped;
  into.inFlight += from.inFlight;
  into.connections += from.connections;
  addCounts(into.statuses, from.statuses);
  addCounts(into.errors, from.errors);
  if (from.errorSamples !== undefined) addSamples((into.errorSamples ??= {}), from.errorSamples);
}

/** Error samples kept per key: the first one wins. */
export const errorSampleKeys = 64;
export const errorSampleChars = 200;

function addSamples(into: Record<string, string>, from: Readonly<Record<string, string>>): void {
  let kept = Object.keys(into).length;
  for (const [key, sample] of Object.entries(from)) {
    if (kept >= errorSampleKeys) return;
    if (into[key] !== undefined) continue;
    into[key] = sample;
    kept += 1;
  }
}

function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [key, count] of Object.entries(from)) into[key] = (into[key] ?? 0) + count;
}

/** Failed exchanges (no response) in a counter set. */
export function transportErrors(counters: Pick<IntervalCounters, 'errors'>): number {
  let total = 0;
  for (const count of Object.values(counters.errors)) total += count;
  return total;
}

/** Responses whose status is not 2xx or 3xx (wrk's "Non-2xx or 3xx responses"). */
export function badStatuses(counters: Pick<IntervalCounters, 'statuses'>): number {
  let total = 0;
  for (const [status, count] of Object.entries(counters.statuses)) {
    const code = Number(status);
    if (code < 200 || code >= 400) total += count;
  }
  return total;
}
