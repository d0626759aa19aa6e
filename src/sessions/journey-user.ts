import { performance } from 'node:perf_hooks';
import { ExchangeError } from '../protocols/exchange-error.js';
import type { CompiledStep } from './compiled-flow.js';
import { httpStep, type HttpStepContext } from './flow-http.js';
import { valueAt, type VariableSource } from './template.js';
import { userVariable } from './user-variables.js';

/** What the fleet asks of any user it starts: run until stopped, stop, close. */
export interface FleetUser {
  /** Runs until the run stops or the user gives up. Never rejects. */
  run(): Promise<void>;
  /** Starts nothing new. */
  stop(): void;
  /** Ends the user for good. */
  close(): void;
}

/** What a journey's users share: the steps and what an http step needs. */
export interface JourneyContext extends HttpStepContext {
  readonly flow: readonly CompiledStep[];
}

/** Ends an iteration whose failure was already counted. */
class IterationEnd extends Error {}
const counted = new IterationEnd('counted');

/**
 * One virtual user of an HTTP journey (`protocol: http` with a `flow`).
 * Closed model (`run`): repeats the flow's `http` and `sleep` steps back to
 * back until the run stops (k6's VUs). Open model (`iterate`): runs one
 * iteration that arrived at an intended time, each step's latency measured
 * from when it was meant to start (the arrival for the first, the end of
 * the step before, plus any sleep, for the next). Captures persist across
 * iterations; `{{iteration}}` counts from 1. A failed step (no response, a
 * 4xx/5xx without a check, a failed check, a missing capture) is counted
 * once and ends the iteration. Holds no connection of its own: requests go
 * through the agent's shared client, and a step that follows a response
 * is written in the loop turn that response ended in (nothing here yields
 * to the event loop between steps, except a sleep).
 */
export class JourneyUser implements FleetUser, VariableSource {
  readonly index: number;
  readonly group: number;
  readonly #context: JourneyContext;
  #iteration = 0;
  #captures: Map<string, unknown> | undefined;
  #stopping = false;
  #sleep: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  /** Open model: when the current step was meant to start (performance.now() ms); undefined in the closed model. */
  #intendedAt: number | undefined;

  constructor(index: number, group: number, context: JourneyContext) {
    this.index = index;
    this.group = group;
    this.#context = context;
  }

  async run(): Promise<void> {
    while (!this.#stopping) await this.#iterate();
  }

  /** Open model: one iteration meant to start at `intendedAt` (performance.now() ms). Never rejects. */
  iterate(intendedAt: number): Promise<void> {
    this.#intendedAt = intendedAt;
    return this.#iterate();
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

  async #iterate(): Promise<void> {
    this.#iteration += 1;
    try {
      await this.#steps(this.#context.flow);
    } catch (error) {
      if (!(error instanceof IterationEnd)) this.#context.recorder.failure(error);
    }
  }

  async #steps(steps: readonly CompiledStep[]): Promise<void> {
    for (const step of steps) {
      if (this.#stopping) return;
      if (step.kind === 'sleep') await this.#sleepFor(step.durationMs);
      else if (step.kind === 'http') await this.#http(step);
    }
  }

  async #http(step: Extract<CompiledStep, { kind: 'http' }>): Promise<void> {
    const { failed, json, endedAt } = await httpStep(this.#context, step, this, this.#intendedAt);
    if (this.#intendedAt !== undefined) this.#intendedAt = endedAt;
    if (failed) {
      // Counted already; `onFail: continue` goes on to the next step (without this step's captures).
      if (step.check?.continueOnFail === true) return;
      throw counted;
    }
    for (const [name, path] of step.capture) {
      const found = valueAt(json, path);
      if (found === undefined) throw new ExchangeError('SPEAR_CAPTURE_MISSING', `nothing at ${path} to capture as ${name}`);
      (this.#captures ??= new Map()).set(name, found);
    }
  }

  /** Sleeps `ms`; in the open model until `ms` after the intended start of the sleep, so a late step is measured late. */
  #sleepFor(ms: number): Promise<void> {
    let waitMs = ms;
    if (this.#intendedAt !== undefined) {
      this.#intendedAt += ms;
      waitMs = Math.max(0, this.#intendedAt - performance.now());
    }
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#sleep = undefined;
        resolve();
      };
      this.#sleep = { timer: setTimeout(wake, waitMs), wake };
    });
  }
}
