import { parseCoordinatorMessage } from '../wire/parse.js';
import { listenForPeers, peerPath } from '../wire/peer-server.js';
import { WebSocketTransport } from '../wire/web-socket-transport.js';
import { serveCoordinator, type CoordinatorLink } from './agent.js';
import type { TargetPolicy } from './target-policy.js';

export { isLoopback } from '../wire/peer-server.js';

/** Largest coordinator message an agent accepts (a plan with its feeder rows is the largest). */
export const maxWireMessageBytes = 64 * 1024 * 1024;

/** The path coordinators dial; anything else is refused. */
export const agentPath = peerPath;

export interface AgentServerOptions {
  readonly host: string;
  readonly port: number;
  /** Shared secret every coordinator must present; undefined only on loopback. */
  readonly token: string | undefined;
  /** PEM certificate and key: serve wss:// instead of ws://. */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
  /** Where runs may send load; undefined = anywhere. */
  readonly targetPolicy?: TargetPolicy | undefined;
  /** This host's addresses long-connection users connect from (--source-addresses), instead of the plan's; undefined: the plan's. */
  readonly sourceAddresses?: readonly string[] | undefined;
  /** Test-only: pretend to speak another wire version (SPEAR_TEST_WIRE_VERSION). */
  readonly wireVersion?: number;
  /** One line per event worth a log (a coordinator came, went, was refused). */
  readonly log: (line: string) => void;
}

export interface AgentServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * `spear agent --listen`: waits for a coordinator over WebSocket, serves one
 * run at a time, and goes back to waiting when the coordinator leaves (its
 * load stops at once: the dead-man switch lives in serveCoordinator). A
 * coordinator must present the token and speak this wire version
 * (listenForPeers checks both, and caps connections that have not upgraded).
 */
export async function listenForCoordinators(options: AgentServerOptions): Promise<AgentServer> {
  let busyWith: string | undefined;
  return listenForPeers({
    self: 'agent',
    host: options.host,
    port: options.port,
    token: options.token,
    tls: options.tls,
    wireVersion: options.wireVersion,
    maxPayload: maxWireMessageBytes,
    log: options.log,
    admit: (from) => {
      if (busyWith !== undefined) return `busy: coordinator ${busyWith} is running a test on this agent`;
      busyWith = from;
      return undefined;
    },
    abandoned: (from) => {
      if (busyWith === from) busyWith = undefined;
    },
    connected: (webSocket, from) => {
      options.log(`coordinator ${from} connected`);
      const link: CoordinatorLink = new WebSocketTransport(webSocket, parseCoordinatorMessage);
      let why = '';
      link.onClose((reason) => {
        why = reason;
      });
      void serveCoordinator(link, { targetPolicy: options.targetPolicy, sourceAddresses: options.sourceAddresses }).finally(() => {
        busyWith = undefined;
        options.log(`coordinator ${from} left (${why}); waiting for the next one`);
      });
    },
  });
}

