import { ExchangeError } from '../protocols/exchange-error.js';
import type { CompiledStep } from './compiled-flow.js';
import { httpStep } from './flow-http.js';
import { valueAt, type VariableSource } from './template.js';
import { userVariable } from './user-variables.js';
import type { FleetContext } from './virtual-user.js';

/** What the fleet asks of any user it starts: run until stopped, stop, close. */
export interface FleetUser {
  /** Runs until the run stops or the user gives up. Never rejects. */
  run(): Promise<void>;
  /** Starts nothing new. */
  stop(): void;
  /** Ends the user for good. */
  close(): void;
}

/** Ends an iteration whose failure was already counted. */
class IterationEnd extends Error {}
const counted = new IterationEnd('counted');

/**
 * One virtual user of an HTTP journey (`protocol: http` with a `flow`):
 * repeats the flow's `http` and `sleep` steps, back to back, until the run
 * stops (the closed model of k6's VUs). Captures persist across iterations;
 * `{{iteration}}` counts from 1. A failed step (no response, a 4xx/5xx
 * without a check, a failed check, a missing capture) is counted once and
 * ends the iteration; the next one starts at once. Holds no connection of
 * its own: requests go through the agent's shared pool.
 */
export class JourneyUser implements FleetUser, VariableSource {
  readonly index: number;
  readonly group: number;
  readonly #context: FleetContext;
  #iteration = 0;
  #captures: Map<string, unknown> | undefined;
  #stopping = false;
  #sleep: { timer: NodeJS.Timeout; wake: () => void } | undefined;

  constructor(index: number, context: FleetContext) {
    this.index = index;
    this.group = Math.floor(index / context.plan.groups.size);
    this.#context = context;
  }

  async run(): Promise<void> {
    this.#context.sessionRecorder.counters.usersStarted += 1;
    while (!this.#stopping) {
      this.#iteration += 1;
      try {
        await this.#steps(this.#context.flow);
      } catch (error) {
        if (!(error instanceof IterationEnd)) this.#context.recorder.failure(error);
      }
    }
  }

  stop(): void {
    this.#stopping = true;
    const sleep = this.#sleep;
    if (sleep !== undefined) {
      clearTimeout(sleep.timer);
      sleep.wake();
    }
  }

  close(): void {
    this.stop();
  }

  variable(name: string): unknown {
    if (name === 'iteration') return this.#iteration;
    return userVariable(name, this.index, this.group, this.#captures, this.#context);
  }

  async #steps(steps: readonly CompiledStep[]): Promise<void> {
    for (const step of steps) {
      if (this.#stopping) return;
      if (step.kind === 'sleep') await this.#sleepFor(step.durationMs);
      else if (step.kind === 'http') await this.#http(step);
    }
  }

  async #http(step: Extract<CompiledStep, { kind: 'http' }>): Promise<void> {
    const { failed, json } = await httpStep(this.#context, step, this);
    if (failed) throw counted;
    for (const [name, path] of step.capture) {
      const found = valueAt(json, path);
      if (found === undefined) throw new ExchangeError('SPEAR_CAPTURE_MISSING', `nothing at ${path} to capture as ${name}`);
      (this.#captures ??= new Map()).set(name, found);
    }
  }

  #sleepFor(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#sleep = undefined;
        resolve();
      };
      this.#sleep = { timer: setTimeout(wake, ms), wake };
    });
  }
}
