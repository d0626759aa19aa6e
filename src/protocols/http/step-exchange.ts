import { performance } from 'node:perf_hooks';
import type { StepRequest } from './step-request.js';

/** One finished flow `http` exchange. */
export interface StepOutcome {
  readonly status: number;
  /** Body bytes received (chunk framing removed; the head not counted). */
  readonly bytes: number;
  /** The body as UTF-8 text, when asked for (captures, body checks); undefined otherwise. */
  readonly text: string | undefined;
  /** From the moment the request was written to a connected socket to the end of the body, µs. */
  readonly latencyUs: number;
  /** performance.now() when the body ended. */
  readonly endedAt: number;
  /**
   * How long the request waited inside spear before it was written, µs:
   * for a free pooled connection, for a new one to connect, or for a kept
   * one found closed to be replaced. -1 when it was written at once.
   */
  readonly queuedUs: number;
}

/**
 * One request of a flow `http` step on its way through spear's client:
 * queued for a pooled connection, then carried by one (`StepLane`). Ends
 * exactly once, with `resolve` or `reject`.
 */
export class StepExchange {
  readonly request: StepRequest;
  readonly keepText: boolean;
  readonly createdAt = performance.now();
  /** Not written at once: it waited for a connection, a connect, or a resend. */
  waited = false;
  /** Already resent once (a kept connection found closed). */
  resent = false;
  readonly resolve: (outcome: StepOutcome) => void;
  readonly reject: (error: unknown) => void;

  constructor(request: StepRequest, keepText: boolean, resolve: (outcome: StepOutcome) => void, reject: (error: unknown) => void) {
    this.request = request;
    this.keepText = keepText;
    this.resolve = resolve;
    this.reject = reject;
  }
}
