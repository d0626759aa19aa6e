/**
 * Two HTTP/1.1 clients fetching one corpus case with the same outcome shape:
 * node's own (`http.request`, llhttp, strict) and spear's HttpConnection,
 * loaded from dist/ as `npm run build` left it. Each fetch asks for
 * `/case/N`; when that gives a response, a probe `GET /second` follows on the
 * same client, and the server says whether it came on the same connection.
 */
import { Agent, request } from 'node:http';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as ConnectionModule from '../../src/protocols/http/http-connection.js';
import type * as RequestModule from '../../src/protocols/http/request-bytes.js';
import type { Slot } from '../../src/protocols/protocol.js';
import type { RawResponseServer } from './raw-response-server.js';
import type { ResponseCase } from './response-primitives.js';

/** What a client made of one request. */
export type FirstOutcome =
  | { readonly kind: 'response'; readonly status: number; readonly bodyLength?: number; readonly wireBytes?: number }
  | { readonly kind: 'error'; readonly code: string }
  | { readonly kind: 'hang' };

/**
 * A fetch of a case: the first request's outcome; `reused` (observed by the
 * server) when the first request gave a response and the `/second` probe was
 * sent, undefined otherwise; `probe` describes the probe's own outcome.
 */
export type Outcome = FirstOutcome & {
  readonly reused: boolean | undefined;
  readonly probe?: string;
  /** Errors spear charged to the connection rather than to a request (`ExchangeListener.connectionFailed`). */
  readonly connectionErrors?: readonly string[];
};

/** One request in flight; `cancel` abandons it (the client's connection is destroyed). */
export interface Attempt {
  readonly result: Promise<FirstOutcome>;
  cancel(): void;
}

export interface Client {
  request(method: 'GET' | 'HEAD', path: string): Attempt;
  /** Errors reported for the connection itself, not for a request (spear only). */
  readonly connectionErrors: readonly string[];
  /** Closes whatever the client still holds. */
  dispose(): void;
}

export interface FetchTiming {
  /** No completion this long after the server wrote everything (or after a probe was sent): a hang. */
  readonly hangMs: number;
  /** Wait after the server wrote the case before probing, so every byte it sent was read. */
  readonly settleMs: number;
  /** Upper bound on any wait (a request that never reached the server). */
  readonly capMs: number;
}

export const defaultTiming: FetchTiming = { hangMs: 400, settleMs: 25, capMs: 5000 };

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.message : String(error);
}

/** Settles once; later calls are ignored (a late error after a response, an abort after a hang). */
function once(): { readonly result: Promise<FirstOutcome>; settle(outcome: FirstOutcome): void } {
  let resolve = (_outcome: FirstOutcome): void => undefined;
  let settled = false;
  const result = new Promise<FirstOutcome>((done) => {
    resolve = done;
  });
  return {
    result,
    settle(outcome) {
      if (settled) return;
      settled = true;
      resolve(outcome);
    },
  };
}

/** node:http with a keep-alive agent of one socket, 64 KiB heads, the default strict parser. */
export function nodeClient(port: number): Client {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    request(method, path) {
      const { result, settle } = once();
      const req = request({ host: '127.0.0.1', port, method, path, agent, maxHeaderSize: 65_536 });
      let responded = false;
      req.on('response', (res) => {
        responded = true;
        let length = 0;
        res.on('data', (chunk: Buffer) => {
          length += chunk.length;
        });
        res.on('end', () => settle({ kind: 'response', status: res.statusCode ?? 0, bodyLength: length }));
        res.on('error', (error) => settle({ kind: 'error', code: errorCode(error) }));
        res.on('close', () => {
          if (!res.complete) settle({ kind: 'error', code: 'ECONNRESET' });
        });
      });
      req.on('error', (error) => settle({ kind: 'error', code: errorCode(error) }));
      // Closed with neither a response nor an error: node does that to an unrequested 101 (no 'upgrade' listener).
      req.on('close', () => {
        if (!responded) settle({ kind: 'error', code: 'NODE_CLOSED_WITHOUT_RESPONSE' });
      });
      req.end();
      return { result, cancel: () => req.destroy() };
    },
    connectionErrors: [],
    dispose: () => agent.destroy(),
  };
}

/** spear's HttpConnection and prepareRequest, as built into dist/. */
export interface SpearModules {
  readonly HttpConnection: typeof ConnectionModule.HttpConnection;
  readonly prepareRequest: typeof RequestModule.prepareRequest;
}

/**
 * The repository's dist/ (this file runs from build/test/support/), or
 * SPEAR_DIST: another build of spear to compare (say, an older commit's).
 */
export const distDir = process.env.SPEAR_DIST !== undefined && process.env.SPEAR_DIST !== '' ? pathToFileURL(`${resolvePath(process.env.SPEAR_DIST)}/`) : new URL('../../../dist/', import.meta.url);

export async function loadSpear(): Promise<SpearModules> {
  const connection = (await import(new URL('protocols/http/http-connection.js', distDir).href)) as typeof ConnectionModule;
  const requestBytes = (await import(new URL('protocols/http/request-bytes.js', distDir).href)) as typeof RequestModule;
  return { HttpConnection: connection.HttpConnection, prepareRequest: requestBytes.prepareRequest };
}

/** One spear HttpConnection per client, as a load connection uses it: one slot per request, in order. */
export function spearClient(spear: SpearModules, port: number): Client {
  const target = new URL(`http://127.0.0.1:${port}`);
  const waiting = new Map<Slot, (outcome: FirstOutcome) => void>();
  const connectionErrors: string[] = [];
  const listener = {
    connectionFailed(error: unknown): void {
      connectionErrors.push(errorCode(error));
    },
    completed(slot: Slot, status: number, bytes: number, error: unknown): void {
      const settle = waiting.get(slot);
      waiting.delete(slot);
      settle?.(status > 0 ? { kind: 'response', status, wireBytes: bytes } : { kind: 'error', code: errorCode(error) });
    },
  };
  const gauge = { opened: () => undefined, closed: () => undefined };
  // Not annotated, so fields older or newer builds lack or add (tlsOptions) do not break the build.
  const endpoint = { host: '127.0.0.1', port, tls: false, tlsOptions: {}, connectTimeoutMs: 2000 };
  const connection = new spear.HttpConnection(endpoint, listener, gauge);
  return {
    request(method, path) {
      const { result, settle } = once();
      const now = performance.now();
      const slot = { intendedAt: now, sentAt: now, requestIndex: 0, send: () => undefined, request: spear.prepareRequest({ name: `${method} ${path}`, method, path, headers: {}, body: undefined }, target) };
      waiting.set(slot, settle);
      connection.send(slot);
      return {
        result,
        cancel: () => {
          waiting.delete(slot);
          connection.abort(new Error('the differential test gave up waiting'));
        },
      };
    },
    connectionErrors,
    dispose: () => connection.abort(new Error('the differential test is done with this connection')),
  };
}

/** The attempt's outcome, or a hang `hangMs` after `clock` resolves (capped at `capMs`); a hang is cancelled. */
async function bounded(attempt: Attempt, clock: Promise<void>, timing: FetchTiming): Promise<FirstOutcome> {
  const timers: NodeJS.Timeout[] = [];
  const hang = new Promise<'hang'>((resolve) => {
    timers.push(setTimeout(() => resolve('hang'), timing.capMs));
    void clock.then(() => timers.push(setTimeout(() => resolve('hang'), timing.hangMs)));
  });
  const outcome = await Promise.race([attempt.result, hang]);
  for (const timer of timers) clearTimeout(timer);
  if (outcome !== 'hang') return outcome;
  attempt.cancel();
  return { kind: 'hang' };
}

export function describeFirst(outcome: FirstOutcome): string {
  if (outcome.kind === 'hang') return 'hang';
  if (outcome.kind === 'error') return `error ${outcome.code}`;
  const size = outcome.bodyLength !== undefined ? ` body=${outcome.bodyLength}` : outcome.wireBytes !== undefined ? ` wire=${outcome.wireBytes}` : '';
  return `${outcome.status}${size}`;
}

/**
 * Fetches case `index` with `client` under fetch tag `tag`, then probes
 * reuse. The client is disposed before this resolves.
 */
export async function fetchCase(server: RawResponseServer, client: Client, responseCase: ResponseCase, index: number, tag: string, timing: FetchTiming = defaultTiming): Promise<Outcome> {
  try {
    const written = server.written(tag);
    const first = await bounded(client.request(responseCase.method, `/case/${index}?fetch=${tag}`), written, timing);
    const connectionErrors = (): { connectionErrors?: readonly string[] } => (client.connectionErrors.length === 0 ? {} : { connectionErrors: [...client.connectionErrors] });
    if (first.kind !== 'response') return { ...first, reused: undefined, ...connectionErrors() };
    await Promise.race([written, delay(timing.capMs)]);
    await delay(timing.settleMs);
    const probe = await bounded(client.request('GET', `/second?fetch=${tag}`), Promise.resolve(), timing);
    return { ...first, reused: server.reused(tag), probe: describeFirst(probe), ...connectionErrors() };
  } finally {
    client.dispose();
  }
}
