import type { Dispatcher } from 'undici';
import type { TargetPolicy } from '../agents/target-policy.js';
import { ExchangeError } from '../protocols/exchange-error.js';
import type { CompiledStep } from './compiled-flow.js';
import { exchange } from './http-exchange.js';
import { renderTemplate, type VariableSource } from './template.js';
import type { FleetContext } from './virtual-user.js';

/** How an `http` step ended: `failed` when the status was 400 or more; `json` the parsed body when the step captures. */
export interface HttpStepOutcome {
  readonly failed: boolean;
  readonly json: unknown;
}

/**
 * Runs one flow `http` step over the agent's shared pool, recording the
 * response (and any wait for a pooled connection as queue time). Rejects
 * with SPEAR_CAPTURE_MISSING when a capturing step gets no JSON, and with
 * the exchange's coded error when there was no response.
 */
export async function httpStep(context: FleetContext, step: Extract<CompiledStep, { kind: 'http' }>, vars: VariableSource): Promise<HttpStepOutcome> {
  const url = new URL(renderTemplate(step.url, false, vars), context.plan.target);
  const check = checkTarget(context.targetPolicy, url.toString());
  if (check !== undefined) await check;
  const headers: Record<string, string> = {};
  for (const [name, template] of step.headers) headers[name] = renderTemplate(template, false, vars);
  const body = step.body === undefined ? undefined : renderTemplate(step.body, step.bodyJson, vars);
  const timeoutMs = context.plan.timeouts.requestMs;
  const outcome = await exchange(context.http, {
    origin: url.origin, path: `${url.pathname}${url.search}`, method: step.method as Dispatcher.HttpMethod, headers, body,
    headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
  }, step.capture.length > 0);
  // Waiting for a pooled connection is spear's queue, not the server's latency.
  if (outcome.queuedUs >= 0) context.recorder.queued(outcome.queuedUs);
  context.recorder.response(outcome.status, outcome.bytes, outcome.latencyUs, outcome.latencyUs);
  if (outcome.status >= 400) return { failed: true, json: undefined };
  if (step.capture.length === 0) return { failed: false, json: undefined };
  try {
    return { failed: false, json: JSON.parse(outcome.text ?? '') as unknown };
  } catch {
    throw new ExchangeError('SPEAR_CAPTURE_MISSING', `${step.method} ${url.pathname} did not answer JSON`);
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
