/**
 * The long-connection half of a scenario: virtual users, their flow of
 * steps, groups, reconnection and broadcast accounting. Validated and
 * normalized like the rest (durations in ms); JSON-safe, since it travels
 * to agents inside their plans. Text fields marked "template" may hold
 * `{{name}}` variables (see templates.ts), expanded per user on the agent.
 */

/** Users connect following `stages` (a piecewise-linear target count), then stay for `holdMs`. */
export interface UsersLoad {
  readonly model: 'users';
  /** Most users connected at once. */
  readonly users: number;
  /** Each stage moves the connected-user target linearly to `users` over `durationMs`. */
  readonly stages: readonly UserStage[];
  readonly holdMs: number;
  /** Stages plus hold. */
  readonly durationMs: number;
  /**
   * HTTP journeys only, the open model (k6's arrival rate): iterations of the
   * flow start on this schedule whatever the server does, each on an idle
   * user, and `users` is the most iterations in flight at once. An arrival
   * that finds no idle user within `maxDelayMs` is dropped and counted.
   * Absent: the closed model, each user repeats the flow back to back.
   */
  readonly arrivals?: IterationArrivals | undefined;
}

/** When an open-model journey's iterations start: the arrival rate at 0, its linear ramps, and how long an arrival may wait for an idle user. */
export interface IterationArrivals {
  readonly startRatePerS: number;
  readonly stages: readonly { readonly durationMs: number; readonly ratePerS: number }[];
  readonly maxDelayMs: number;
}

export interface UserStage {
  readonly durationMs: number;
  readonly users: number;
}

/**
 * Per-user data from a CSV file: user i gets row i mod rows.length, its
 * fields as {{feeder.<column>}}. Rows are read by the coordinator (agents
 * need no copy of the file) and travel in the plan.
 */
export interface Feeder {
  /** The file as given in the scenario. */
  readonly file: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** User i belongs to group ⌊i / size⌋. */
export interface Groups {
  readonly size: number;
}

/**
 * Exponential backoff with full jitter: attempt n (from 1) waits
 * random(0, min(max, initial·2ⁿ⁻¹)); a connection that opens resets n.
 */
export interface ReconnectPolicy {
  readonly attempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export interface BroadcastSpec {
  /** Socket.IO event carrying deliveries; undefined = any message holding a stamp (plain WebSocket). */
  readonly event: string | undefined;
  /** A delivery later than this after the send is late; also the drain window at the end. */
  readonly timeoutMs: number;
  /** Whether the sender counts as a recipient of its own broadcast. */
  readonly includeSender: boolean;
}

export interface ConnectionSpec {
  readonly perMessageDeflate: boolean;
  /** Source addresses users are spread over (round-robin); empty = the system's choice. */
  readonly sourceAddresses: readonly string[];
}

export interface SocketIoSpec {
  readonly eio: 3 | 4;
  readonly path: string;
  readonly namespace: string;
}

/** A request over spear's HTTP/1.1 client (src/protocols/http/step-client.ts); `capture` maps variable names to dotted paths in the JSON response. */
export interface HttpStep {
  readonly kind: 'http';
  /** What statistics and thresholds call it: `name:`, default "METHOD url-template" (src/scenarios/request-names.ts). */
  readonly name: string;
  readonly method: string;
  /** Template: a path (joined to the target) or an absolute URL. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Template. */
  readonly body: string | undefined;
  readonly capture: Readonly<Record<string, string>>;
  /** What the response must be; absent: any status below 400 passes. */
  readonly check?: HttpCheck | undefined;
}

/**
 * A flow `http` step's check. A response that fails it is an error of kind
 * `check` (`check:STATUS`, `check:MATCH`, `check:CONTAINS`) and ends the
 * user's iteration.
 */
export interface HttpCheck {
  /** Statuses that pass; undefined: any status below 400. */
  readonly statuses: readonly number[] | undefined;
  /** Fields the JSON body must have, compared deeply (templates allowed in strings). */
  readonly match: unknown;
  /** Template: text the body must contain. */
  readonly contains: string | undefined;
  /** `onFail: continue`: a failed step (check, or a 4xx/5xx) is counted and the flow goes on to its next step; absent: it ends the iteration. */
  readonly continueOnFail?: boolean | undefined;
}

export interface ConnectStep {
  readonly kind: 'connect';
  /** Template: an absolute URL or a path on the target; undefined = the target. */
  readonly url: string | undefined;
  /** Socket.IO auth payload as a JSON template. */
  readonly auth: string | undefined;
}

export interface EmitStep {
  readonly kind: 'emit';
  readonly event: string;
  /** JSON template of the event's argument; may hold `{{stamp}}` (a broadcast). */
  readonly data: string | undefined;
  /** Wait for the server's acknowledgement (its latency goes to the reply histogram). */
  readonly ack: boolean;
}

export interface SendStep {
  readonly kind: 'send';
  /** Template; JSON text when the scenario gave a mapping. May hold `{{stamp}}`. */
  readonly data: string;
  readonly binary: boolean;
}

export interface ExpectStep {
  readonly kind: 'expect';
  /** Socket.IO event to wait for; undefined = the next message (plain WebSocket). */
  readonly event: string | undefined;
  /** Fields the first argument (or the JSON message) must have, compared deeply. */
  readonly match: unknown;
  /** Plain text the message must contain. */
  readonly contains: string | undefined;
  readonly timeoutMs: number;
  readonly capture: Readonly<Record<string, string>>;
}

/** From here on the user is a member of its group: broadcasts to the group are expected. */
export interface JoinStep {
  readonly kind: 'join';
}

export interface SleepStep {
  readonly kind: 'sleep';
  readonly durationMs: number;
}

/** Repeats `steps` every `intervalMs` until the run ends; the first round starts at a random point of the first interval. */
export interface EveryStep {
  readonly kind: 'every';
  readonly intervalMs: number;
  readonly steps: readonly Step[];
}

export type Step = HttpStep | ConnectStep | EmitStep | SendStep | ExpectStep | JoinStep | SleepStep | EveryStep;

/** Whether a step (or one nested in it) sends broadcasts. */
export function sendsBroadcasts(steps: readonly Step[]): boolean {
  return steps.some((step) => {
    if (step.kind === 'every') return sendsBroadcasts(step.steps);
    if (step.kind === 'emit') return step.data?.includes('{{stamp}}') ?? false;
    if (step.kind === 'send') return step.data.includes('{{stamp}}');
    return false;
  });
}
