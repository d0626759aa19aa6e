import { performance } from 'node:perf_hooks';

/** The drain looks at the loop this often. */
const checkEveryMs = 50;
/** A check that fires later than this behind schedule means the loop is still busy (reading). */
const busyLagMs = 10;
/** Drained: every check quiet for this long. */
const quietForMs = 200;
/**
 * The longest an end-of-run drain may take. What is still unread then stays
 * unread: the run's bound must end somewhere (UserFleet.drainBoundMs
 * includes it, and the coordinator's end-of-run allowance covers that).
 */
export const socketDrainMaxMs = testDrainMs() ?? 3000;

/** SPEAR_TEST_DRAIN_MS: a test-only drain bound (0 = close at once, as spear did before draining). */
function testDrainMs(environment: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = environment.SPEAR_TEST_DRAIN_MS;
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * One check of a drain: quiet when no message arrived since the last check,
 * or when the check fired on time (the loop is idle enough to read every
 * socket as data comes: nothing waits in the kernel). Pure.
 */
export function quietCheck(newMessages: number, lagMs: number): boolean {
  return newMessages === 0 || lagMs < busyLagMs;
}

/**
 * "Unread is not lost": when the agent's loop is saturated, messages wait
 * in the kernel's receive queues, and closing the sockets then would
 * discard them. Before the end-of-run close, a drain keeps the connections
 * open until the loop has caught up (every check quiet for 200 ms) and no
 * user still awaits a reply it asked for before the stop (an `expect` or
 * an ack: a server slower than 200 ms would otherwise lose its slowest
 * replies from the counts), or `socketDrainMaxMs` passed, then calls
 * `done` once. Not a hot path.
 */
export class SocketDrain {
  readonly #received: () => number;
  readonly #awaiting: () => boolean;
  readonly #done: () => void;
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  #checkedAt = 0;
  #lastReceived = 0;
  #quietSince = 0;
  #finished = false;

  /** `received` counts messages received so far (monotonic); `awaiting` says whether any user still waits for a reply. */
  constructor(received: () => number, done: () => void, awaiting: () => boolean = () => false) {
    this.#received = received;
    this.#done = done;
    this.#awaiting = awaiting;
  }

  start(): void {
    const now = performance.now();
    this.#startedAt = now;
    this.#checkedAt = now;
    this.#quietSince = now;
    this.#lastReceived = this.#received();
    this.#schedule();
  }

  /** Stops without calling `done`. */
  cancel(): void {
    this.#finished = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    this.#timer = setTimeout(() => this.#check(), checkEveryMs);
  }

  #check(): void {
    if (this.#finished) return;
    const now = performance.now();
    const received = this.#received();
    if (!quietCheck(received - this.#lastReceived, now - this.#checkedAt - checkEveryMs) || this.#awaiting()) this.#quietSince = now;
    this.#lastReceived = received;
    this.#checkedAt = now;
    if (now - this.#quietSince >= quietForMs || now - this.#startedAt >= socketDrainMaxMs) {
      this.#finished = true;
      this.#done();
      return;
    }
    this.#schedule();
  }
}
