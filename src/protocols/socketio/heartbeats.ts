import { performance } from 'node:perf_hooks';

/** What the heartbeat machinery needs of a session. */
export interface Beating {
  /** performance.now() of the last heartbeat heard (EIO4: the server's ping; EIO3: its pong). */
  readonly lastHeardAt: number;
  /** Silence longer than this means the link is dead (pingInterval + pingTimeout). */
  readonly deadAfterMs: number;
  /** Engine.IO 3 only: the client pings every this many ms; Infinity for Engine.IO 4. */
  readonly clientPingEveryMs: number;
  /** When this session's next client ping is due (performance.now() clock); set by the heartbeats. */
  nextPingAt: number;
  /** Sends one Engine.IO 3 ping. */
  ping(): void;
  /** Drops a link whose heartbeats stopped. */
  expire(): void;
}

/** The liveness sweep visits every session this often: lateness here only delays noticing a dead link. */
const sweepEveryMs = 500;
/** Pings due within this much of a timer's firing leave with it: a few ms early is harmless, and it bounds wake-ups. */
const pingSlackMs = 3;

/**
 * Sessions of one ping interval in due order. Every session is pushed with
 * "now + interval", so pushes arrive nearly sorted: a push walks back past
 * the few later entries at most. Removed sessions are skipped when they
 * come due (lazy deletion), so removal costs nothing here.
 */
class PingQueue {
  #items: Beating[] = [];
  #head = 0;

  /** The earliest entry, undefined when empty. */
  peek(): Beating | undefined {
    return this.#items[this.#head];
  }

  shift(): Beating | undefined {
    const item = this.#items[this.#head];
    if (item === undefined) return undefined;
    this.#head += 1;
    // Compact once the consumed prefix dominates: amortized O(1), no unbounded growth.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  push(session: Beating): void {
    const items = this.#items;
    let at = items.length;
    while (at > this.#head && items[at - 1]!.nextPingAt > session.nextPingAt) at -= 1;
    if (at === items.length) items.push(session);
    else items.splice(at, 0, session);
  }
}

/**
 * Heartbeats for every Socket.IO session of an agent, off two shared timers
 * rather than one per connection. A liveness sweep every 500 ms drops links
 * silent for longer than pingInterval + pingTimeout (both revisions).
 * Engine.IO 3 client pings are scheduled exactly: sessions wait in one
 * queue per ping interval, in due order, and a single timer is armed for
 * the earliest head, so each ping leaves within a few ms of its due time
 * (a server with pingTimeout 300 ms must hear it within 300 ms) at a cost
 * of O(1) per ping. Single-threaded; nothing here allocates per ping.
 */
export class Heartbeats {
  readonly #sessions = new Set<Beating>();
  readonly #queues = new Map<number, PingQueue>();
  #sweepTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  /** When the armed ping timer fires (Infinity when none is armed). */
  #pingTimerAt = Infinity;
  #disposed = false;

  /** Whether `add` still takes sessions (false once disposed: the run ended). */
  get accepting(): boolean {
    return !this.#disposed;
  }

  /** Starts watching `session`; an Engine.IO 3 session's first ping is due one interval from now. */
  add(session: Beating): void {
    if (this.#disposed) return;
    this.#sessions.add(session);
    if (this.#sweepTimer === undefined) {
      this.#sweepTimer = setInterval(() => this.#sweep(), sweepEveryMs);
      // The agent lives by its coordinator link, never by these timers.
      this.#sweepTimer.unref();
    }
    if (session.clientPingEveryMs !== Infinity) this.#schedule(session, performance.now());
  }

  remove(session: Beating): void {
    this.#sessions.delete(session);
  }

  dispose(): void {
    this.#disposed = true;
    clearInterval(this.#sweepTimer);
    clearTimeout(this.#pingTimer);
    this.#sweepTimer = undefined;
    this.#pingTimer = undefined;
    this.#sessions.clear();
    this.#queues.clear();
  }

  #schedule(session: Beating, now: number): void {
    const every = session.clientPingEveryMs;
    session.nextPingAt = now + every;
    let queue = this.#queues.get(every);
    if (queue === undefined) {
      queue = new PingQueue();
      this.#queues.set(every, queue);
    }
    queue.push(session);
    if (session.nextPingAt < this.#pingTimerAt) this.#armPings(session.nextPingAt, now);
  }

  #armPings(at: number, now: number): void {
    clearTimeout(this.#pingTimer);
    this.#pingTimerAt = at;
    this.#pingTimer = setTimeout(() => this.#pings(), Math.max(0, at - now));
    this.#pingTimer.unref();
  }

  /** Sends every ping due (within the slack), re-queues those sessions, and arms the timer for the next head. */
  #pings(): void {
    this.#pingTimer = undefined;
    this.#pingTimerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const [every, queue] of this.#queues) {
      for (let head = queue.peek(); head !== undefined && head.nextPingAt <= now + pingSlackMs; head = queue.peek()) {
        queue.shift();
        // Closed since it was queued: forget it here (lazy deletion).
        if (!this.#sessions.has(head)) continue;
        head.ping();
        head.nextPingAt = now + every;
        queue.push(head);
      }
      const head = queue.peek();
      if (head === undefined) this.#queues.delete(every);
      else if (head.nextPingAt < next) next = head.nextPingAt;
    }
    if (next !== Infinity && !this.#disposed) this.#armPings(next, now);
  }

  #sweep(): void {
    const now = performance.now();
    for (const session of this.#sessions) {
      if (now - session.lastHeardAt > session.deadAfterMs) session.expire();
    }
  }
}
