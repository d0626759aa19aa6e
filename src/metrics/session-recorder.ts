import type { SessionCounters, SessionHistograms } from '../wire/messages.js';
import { createHistogram, encodeHistogram, recordUs, type Histogram } from './histogram.js';

/** Session counters with nothing counted. */
export function emptySessionCounters(): SessionCounters {
  return {
    usersStarted: 0, opened: 0, failed: 0, disconnects: 0, reconnects: 0, connected: 0, joined: 0,
    messagesSent: 0, messagesReceived: 0, broadcastsSent: 0,
    delivered: 0, late: 0, duplicated: 0, outOfOrder: 0, nonMember: 0, unexpected: 0, allConnectedUs: 0,
  };
}

/**
 * Adds `from` into `into`. Counts and gauges add (agents of one interval);
 * allConnectedUs keeps the latest, and stays 0 while any side is 0.
 */
export function addSessionCounters(into: SessionCounters, from: SessionCounters): void {
  const keys = Object.keys(into) as (keyof SessionCounters)[];
  for (const key of keys) {
    if (key !== 'allConnectedUs') into[key] += from[key];
  }
}

/**
 * An agent's long-connection metrics for the current interval: counters
 * the users bump directly, and the connect, reply and delivery histograms.
 * Hot path methods never allocate. Single-threaded.
 */
export class SessionRecorder {
  readonly counters: SessionCounters = emptySessionCounters();
  readonly #connect: Histogram = createHistogram();
  readonly #reply: Histogram = createHistogram();
  readonly #delivery: Histogram = createHistogram();

  connected(latencyUs: number, reconnect: boolean): void {
    this.counters.opened += 1;
    if (reconnect) this.counters.reconnects += 1;
    recordUs(this.#connect, latencyUs);
  }

  replied(latencyUs: number): void {
    recordUs(this.#reply, latencyUs);
  }

  delivered(latencyUs: number): void {
    recordUs(this.#delivery, latencyUs);
  }

  /** The interval's counters (gauges filled in) and histograms; resets the counts. */
  takeInterval(connected: number, joined: number, allConnectedUs: number): { counters: SessionCounters; histograms: SessionHistograms } {
    const counters: SessionCounters = { ...this.counters, connected, joined, allConnectedUs };
    const histograms: SessionHistograms = {
      connect: encodeHistogram(this.#connect),
      reply: encodeHistogram(this.#reply),
      delivery: encodeHistogram(this.#delivery),
    };
    Object.assign(this.counters, emptySessionCounters());
    this.#connect.reset();
    this.#reply.reset();
    this.#delivery.reset();
    return { counters, histograms };
  }
}
