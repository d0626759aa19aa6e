import WebSocket from 'ws';
import { UsageError } from '../errors.js';
import type { AgentMessage, CoordinatorMessage } from '../wire/messages.js';
import { parseCoordinatorMessage } from '../wire/parse.js';
import { peerHeaders, peerPath } from '../wire/peer-server.js';
import { WebSocketTransport } from '../wire/web-socket-transport.js';
import { serveCoordinator, type CoordinatorLink } from './agent.js';
import { maxWireMessageBytes } from './agent-server.js';
import type { TargetPolicy } from './target-policy.js';

export interface JoinOptions {
  /** The coordinator's URL, as `joinUrl` made it (ws:// or wss://, path /spear). */
  readonly url: string;
  /** Sent as `authorization: Bearer`; the coordinator's token. */
  readonly token: string | undefined;
  /** PEM CA certificate(s) the coordinator's wss:// certificate chains to (else the system's roots). */
  readonly ca?: string | undefined;
  /** Local address to dial from (one of this host's addresses). */
  readonly source?: string | undefined;
  /** Where runs may send load; undefined = anywhere. */
  readonly targetPolicy?: TargetPolicy | undefined;
  /** This host's addresses long-connection users connect from (--source-addresses), instead of the plan's; undefined: the plan's. */
  readonly sourceAddresses?: readonly string[] | undefined;
  /** Test-only: pretend to speak another wire version (SPEAR_TEST_WIRE_VERSION). */
  readonly wireVersion?: number | undefined;
  /** One line per event worth a log (joined, left, refused, unreachable); the same problem twice in a row is said once. */
  readonly log: (line: string) => void;
}

/** Between attempts: jittered, doubling from the first pause up to the cap; back to the first after a run. */
const firstPauseMs = 250;
const maxPauseMs = 5000;
/** A dial that has not completed its upgrade this soon failed (a dropped SYN would hang ~127 s). */
const dialTimeoutMs = 10_000;
/** How long a refusal's body may take to arrive before the refusal is reported without it. */
const refusalBodyMs = 2000;

type Attempt = { readonly kind: 'served'; readonly reason: string } | { readonly kind: 'failed'; readonly problem: string };

/**
 * `--join ws://HOST:PORT`, `wss://HOST:PORT/path` or `HOST:PORT` → the URL
 * the agent dials; the path defaults to /spear. `tls`: a bare HOST:PORT
 * means wss:// (a CA was given). Throws a UsageError naming the flag.
 */
export function joinUrl(given: string, tls: boolean): string {
  const problem = `--join ${given}: expected ws://HOST:PORT or wss://HOST:PORT (the coordinator's spear run --listen), such as ws://spear-coordinator:7070`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(given) && !/^wss?:\/\//i.test(given)) throw new UsageError(problem);
  let url: URL;
  try {
    url = new URL(/^wss?:\/\//i.test(given) ? given : `${tls ? 'wss' : 'ws'}://${given}`);
  } catch {
    throw new UsageError(problem);
  }
  if (url.hostname === '') throw new UsageError(problem);
  if (url.pathname === '/') url.pathname = peerPath;
  return url.toString();
}

/**
 * `spear agent --join`: dials the coordinator, says ready, serves its run
 * (serveCoordinator: the same loop as a listening agent, dead-man switch
 * included: a coordinator that vanishes mid-run stops this agent's load
 * within the transport's 5 s ping window), and dials again for the next
 * run, with jittered backoff capped at 5 s while the coordinator is down,
 * busy or refuses. Resolves once `signal` aborts and any run has stopped.
 */
export async function joinCoordinators(options: JoinOptions, signal: AbortSignal): Promise<void> {
  let pauseMs = firstPauseMs;
  let lastProblem = '';
  while (!signal.aborted) {
    const attempt = await joinOnce(options, signal);
    if (attempt.kind === 'served') {
      options.log(`left coordinator ${options.url} (${attempt.reason}); joining again for the next run`);
      lastProblem = '';
      pauseMs = firstPauseMs;
    } else if (!signal.aborted) {
      if (attempt.problem !== lastProblem) options.log(`${attempt.problem}; trying again (at most ${maxPauseMs / 1000}s apart)`);
      lastProblem = attempt.problem;
    }
    // Full jitter on the upper half: agents started together (a Deployment) do not dial in waves.
    await pause(pauseMs * (0.5 + Math.random() / 2), signal);
    if (attempt.kind === 'failed') pauseMs = Math.min(maxPauseMs, pauseMs * 2);
  }
}

/** One dial: refused or unreachable (the problem, one line), or a session served to its end. Never rejects. */
function joinOnce(options: JoinOptions, signal: AbortSignal): Promise<Attempt> {
  return new Promise((resolve) => {
    const socket = new WebSocket(options.url, {
      headers: peerHeaders(options.token, options.wireVersion),
      perMessageDeflate: false,
      handshakeTimeout: dialTimeoutMs,
      maxPayload: maxWireMessageBytes,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.source === undefined ? {} : { localAddress: options.source }),
    });
    let settled = false;
    const fail = (problem: string): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      socket.terminate();
      resolve({ kind: 'failed', problem });
    };
    const onAbort = (): void => fail('stopped');
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('unexpected-response', (_request, response) => {
      const refused = `refused by coordinator ${options.url} (HTTP ${response.statusCode ?? 0})`;
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      response.on('end', () => fail(`${refused}: ${body.trim() || 'no reason given'}`));
      response.on('error', () => fail(refused));
      setTimeout(() => fail(refused), refusalBodyMs).unref();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? '';
      const hint = code === 'ECONNREFUSED' ? ': not listening yet? (spear run --listen)'
        : /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code) ? ': pass --ca with the CA certificate the coordinator\'s --tls-cert chains to'
        : code === 'EADDRNOTAVAIL' && options.source !== undefined ? `: --source ${options.source} is not an address of this host` : '';
      fail(`cannot reach coordinator ${options.url} (${error.code ?? error.message})${hint}`);
    });
    socket.on('open', () => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      const link: CoordinatorLink = new WebSocketTransport<AgentMessage, CoordinatorMessage>(socket, parseCoordinatorMessage);
      let why = '';
      link.onClose((reason) => {
        why = reason;
      });
      // Stopping the agent closes the link: serveCoordinator then stops any load, as for a vanished coordinator.
      const onStop = (): void => link.close();
      signal.addEventListener('abort', onStop, { once: true });
      options.log(`joined coordinator ${options.url}; waiting for its plan`);
      void serveCoordinator(link, { targetPolicy: options.targetPolicy, sourceAddresses: options.sourceAddresses }).finally(() => {
        signal.removeEventListener('abort', onStop);
        resolve({ kind: 'served', reason: why });
      });
    });
  });
}

/** Waits `ms`, or less if `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
