import type { TargetPolicy } from '../agents/target-policy.js';
import type { Recorder } from '../metrics/recorder.js';
import { ExchangeError } from '../protocols/exchange-error.js';
import { matches, type CompiledCheck, type CompiledStep } from './compiled-flow.js';
import { asSpearError } from './undici-errors.js';
import { sendStep, type StepTransport } from './http-exchange.js';
import { renderTemplate, type VariableSource } from './template.js';
import type { VariableContext } from './user-variables.js';

/** What an `http` step uses of its fleet: the client, the recorder, the plan (target, timeouts), the target policy and the variables. */
export interface HttpStepContext extends VariableContext {
  /** spear's own client (`StepClient`), in HTTP journeys and long-connection flows alike; an undici Dispatcher only where tests compare the two. */
  readonly http: StepTransport;
  readonly recorder: Recorder;
  readonly targetPolicy: TargetPolicy | undefined;
}

/**
 * How an `http` step ended: `failed` when the status was 400 or more (no
 * check) or the check failed; `json` the parsed body when the step
 * captures; `endedAt` (performance.now()) when the response ended.
 */
export interface HttpStepOutcome {
  readonly failed: boolean;
  readonly json: unknown;
  readonly endedAt: number;
}

/**
 * Runs one flow `http` step over the agent's shared client, recording the
 * response (and any wait for a pooled connection as queue time) and its
 * check. `intendedAt` (performance.now() ms, open-model journeys): when the
 * step was meant to start; its latency is then measured from there
 * (coordinated omission corrected) and its service time from the write.
 * Without it both are from the write. Rejects with SPEAR_CAPTURE_MISSING
 * when a capturing step gets no JSON, and with the exchange's coded error
 * when there was no response.
 */
export async function httpStep(context: HttpStepContext, step: Extract<CompiledStep, { kind: 'http' }>, vars: VariableSource, intendedAt?: number): Promise<HttpStepOutcome> {
  const url = new URL(renderTemplate(step.url, false, vars), context.plan.target);
  const check = checkTarget(context.targetPolicy, url.toString());
  if (check !== undefined) await check;
  const headers: (readonly [string, string])[] = [];
  for (const [name, template] of step.headers) headers.push([name, renderTemplate(template, false, vars)]);
  const body = step.body === undefined ? undefined : renderTemplate(step.body, step.bodyJson, vars);
  const needsBody = step.capture.length > 0 || step.check?.match !== undefined || step.check?.contains !== undefined;
  const outcome = await sendStep(context.http, { method: step.method, url, headers, body }, needsBody, context.plan.timeouts.requestMs).catch((error: unknown) => {
    const coded = asSpearError(error);
    // Counted in the totals where the iteration ends; here only under this request's name.
    context.recorder.requestFailed(step.request, coded);
    throw coded;
  });
  // Waiting for a pooled connection is spear's queue, not the server's latency.
  if (outcome.queuedUs >= 0) context.recorder.queued(outcome.queuedUs);
  const latencyUs = intendedAt === undefined ? outcome.latencyUs : Math.max(outcome.latencyUs, Math.round((outcome.endedAt - intendedAt) * 1000));
  context.recorder.response(outcome.status, outcome.bytes, latencyUs, outcome.latencyUs, step.request);
  const endedAt = outcome.endedAt;
  const statusProblem = statusCheck(step.check, outcome.status);
  if (statusProblem === 'error') return { failed: true, json: undefined, endedAt };
  if (statusProblem !== undefined) {
    context.recorder.failure(new ExchangeError('STATUS', `${step.method} ${url.pathname}: status ${outcome.status}, expected ${statusProblem}`), step.request);
    return { failed: true, json: undefined, endedAt };
  }
  if (!needsBody) return { failed: false, json: undefined, endedAt };
  const text = outcome.text ?? '';
  const json = parsedJson(text);
  if (step.check !== undefined && !bodyPasses(step.check, text, json, vars, context, `${step.method} ${url.pathname}`, step.request)) return { failed: true, json: undefined, endedAt };
  if (step.capture.length === 0) return { failed: false, json: undefined, endedAt };
  if (json === undefined) throw new ExchangeError('SPEAR_CAPTURE_MISSING', `${step.method} ${url.pathname} did not answer JSON`);
  return { failed: false, json, endedAt };
}

/** Undefined when the status passes; "error" when it is a status error already counted (400+, no check); else the statuses expected. */
function statusCheck(check: CompiledCheck | undefined, status: number): string | undefined {
  if (check?.statuses === undefined) return status >= 400 ? 'error' : undefined;
  if (check.statuses.includes(status)) return undefined;
  // A 4xx/5xx is already a status error in the summary: ending the iteration is enough.
  return status >= 400 ? 'error' : check.statuses.join(' or ');
}

/** Checks the body's match and contains; counts the first failure as check:MATCH or check:CONTAINS. */
function bodyPasses(check: CompiledCheck, text: string, json: unknown, vars: VariableSource, context: HttpStepContext, what: string, request: number): boolean {
  if (check.contains !== undefined) {
    const needle = renderTemplate(check.contains, false, vars);
    if (!text.includes(needle)) {
      context.recorder.failure(new ExchangeError('CONTAINS', `${what}: the body does not contain ${JSON.stringify(needle).slice(0, 100)}`), request);
      return false;
    }
  }
  if (check.match !== undefined) {
    const expected = check.matchTemplate === undefined ? check.match : JSON.parse(renderTemplate(check.matchTemplate, true, vars)) as unknown;
    if (!matches(json, expected)) {
      context.recorder.failure(new ExchangeError('MATCH', `${what}: got ${text.slice(0, 200)}`), request);
      return false;
    }
  }
  return true;
}

function parsedJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Refuses a target this agent may not load (--allow-target); undefined without a policy, so the common case does not yield. */
export function checkTarget(policy: TargetPolicy | undefined, url: string): Promise<void> | undefined {
  if (policy === undefined) return undefined;
  const host = new URL(url).hostname;
  return policy.allows(host).then((allowed) => {
    if (!allowed) throw new ExchangeError('SPEAR_TARGET_NOT_ALLOWED', `this agent may not send load to ${host} (--allow-target)`);
  });
}
