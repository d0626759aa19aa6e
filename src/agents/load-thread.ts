import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { messageOf, SpearError, ExitCode } from '../errors.js';
import { record, string } from '../wire/fields.js';
import { parseAgentMessage } from '../wire/parse.js';
import type { AgentPlan } from '../scenarios/plan.js';
import type { IntervalMessage } from '../wire/messages.js';
import { watchStart } from './start-deadline.js';

const workerMain = fileURLToPath(new URL('./load-worker.js', import.meta.url));

/** What the control thread tells the load thread. */
export type LoadCommand =
  | { readonly type: 'start'; readonly atMs: number }
  | { readonly type: 'stop' }
  | { readonly type: 'clock'; readonly offsetUs: number; readonly uncertaintyUs: number };

/** What the load thread tells the control thread. */
export type LoadEvent =
  | { readonly type: 'ready' }
  | { readonly type: 'interval'; readonly message: IntervalMessage }
  | { readonly type: 'finished' }
  | { readonly type: 'failed'; readonly code: string; readonly message: string };

/** What the load thread is started with (worker data). */
export interface LoadThreadData {
  readonly plan: AgentPlan;
  /** `spear agent --allow-target` entries; undefined = anywhere. */
  readonly allowTargets: readonly string[] | undefined;
}

/** What a load thread reports to its owner. Listeners run on the control thread. */
export interface LoadThreadEvents {
  interval(message: IntervalMessage): void;
  finished(): void;
  failed(code: string, message: string): void;
}

/** Validates a load-thread event (threads share no types at run time: narrow at the boundary). */
export function parseLoadEvent(value: unknown): LoadEvent {
  const fields = record(value, 'load event');
  switch (fields.type) {
    case 'ready':
      return { type: 'ready' };
    case 'finished':
      return { type: 'finished' };
    case 'interval': {
      const message = parseAgentMessage(fields.message);
      if (message.type !== 'interval') throw new SpearError('E_WIRE', 'load event: interval without an interval message', ExitCode.internal);
      return { type: 'interval', message };
    }
    case 'failed':
      return { type: 'failed', code: string(fields, 'code', 'failed'), message: string(fields, 'message', 'failed') };
    default:
      throw new SpearError('E_WIRE', `load event: unknown type ${JSON.stringify(fields.type)}`, ExitCode.internal);
  }
}


/**
 * The agent's load, on its own thread. The control thread (coordinator
 * link, pings, heartbeats) stays responsive however saturated the load
 * loop is: measured, one load-loop turn starting 13,000 connects lasted
 * 7 s, and an agent whose reports share that loop was declared lost.
 * Everything here runs on the control thread and never blocks.
 */
export class LoadThread {
  readonly #worker: Worker;
  readonly #events: LoadThreadEvents;
  #lastSignMs = Date.now();
  #lastInterval = -1;
  #startAtMs = Number.POSITIVE_INFINITY;
  #exited = false;
  readonly #exit: Promise<void>;

  private constructor(worker: Worker, events: LoadThreadEvents) {
    this.#worker = worker;
    this.#events = events;
    this.#exit = new Promise((resolve) => worker.once('exit', () => {
      this.#exited = true;
      resolve();
    }));
  }

  /** Starts the load thread for `data` and resolves once its run is built. */
  static async start(data: LoadThreadData, events: LoadThreadEvents): Promise<LoadThread> {
    const worker = new Worker(workerMain, { workerData: data, stdout: false, stderr: false });
    const thread = new LoadThread(worker, events);
    await new Promise<void>((resolve, reject) => {
      // How long building the run (modules, feeders, pools) may take before the plan is refused: see start-deadline.ts.
      const stopWatch = watchStart((reason) => {
        void worker.terminate();
        reject(new SpearError('E_AGENT_INTERNAL', reason, ExitCode.agent));
      });
      let ready = false;
      worker.on('message', (raw: unknown) => {
        let event: LoadEvent;
        try {
          event = parseLoadEvent(raw);
        } catch (error) {
          events.failed('E_AGENT_INTERNAL', `load thread: ${messageOf(error)}`);
          return;
        }
        if (event.type === 'ready') {
          ready = true;
          stopWatch();
          resolve();
          return;
        }
        if (!ready && event.type === 'failed') {
          stopWatch();
          void worker.terminate();
          reject(new SpearError(event.code, event.message, ExitCode.agent));
          return;
        }
        thread.#receive(event);
      });
      worker.on('error', (error) => {
        stopWatch();
        if (!ready) reject(error);
        else events.failed('E_AGENT_INTERNAL', `load thread crashed: ${messageOf(error)}`);
      });
      worker.once('exit', (code) => {
        stopWatch();
        if (!ready) reject(new SpearError('E_AGENT_INTERNAL', `the load thread exited (code ${code}) before it started`, ExitCode.agent));
      });
    });
    return thread;
  }

  /** Starts load at wall-clock `atMs`. */
  startAt(atMs: number): void {
    this.#startAtMs = atMs;
    this.#post({ type: 'start', atMs });
  }

  stop(): void {
    this.#post({ type: 'stop' });
  }

  correctClock(offsetUs: number, uncertaintyUs: number): void {
    this.#post({ type: 'clock', offsetUs, uncertaintyUs });
  }

  /** Milliseconds since the load thread last reported (from the start barrier on); 0 before the start. */
  silentMs(now = Date.now()): number {
    return Math.max(0, now - Math.max(this.#lastSignMs, this.#startAtMs));
  }

  get lastInterval(): number {
    return this.#lastInterval;
  }

  /**
   * Ends the load at once (the coordinator is gone, or the run is over):
   * the thread is terminated, which closes every socket it holds. Resolves
   * when it has exited.
   */
  async terminate(): Promise<void> {
    if (!this.#exited) await this.#worker.terminate();
    await this.#exit;
  }

  #receive(event: LoadEvent): void {
    this.#lastSignMs = Date.now();
    switch (event.type) {
      case 'interval':
        this.#lastInterval = event.message.index;
        this.#events.interval(event.message);
        return;
      case 'finished':
        this.#events.finished();
        return;
      case 'failed':
        this.#events.failed(event.code, event.message);
        return;
      case 'ready':
        return;
    }
  }

  #post(command: LoadCommand): void {
    if (!this.#exited) this.#worker.postMessage(command);
  }
}
