import { httpProtocol } from './http/http-protocol.js';
import type { Protocol } from './protocol.js';
import type { SessionFactory, SessionOptions } from './session.js';
import { socketIoSessions } from './socketio/socketio-session.js';
import { wsSessions } from './ws/ws-session.js';

/**
 * Every protocol spear speaks, by the name scenarios use. Request protocols
 * turn a plan into a pool of slots (closed/open model); session protocols
 * give each virtual user one long connection. Adding one is one line here.
 */
export const requestProtocols: ReadonlyMap<string, Protocol> = new Map<string, Protocol>([[httpProtocol.name, httpProtocol]]);

export const sessionProtocols: ReadonlyMap<string, (options: SessionOptions) => SessionFactory> = new Map([
  ['ws', wsSessions],
  ['socketio', socketIoSessions],
  // HTTP journeys hold no long connection: validation refuses connect steps, so nothing is ever created.
  ['http-flow', () => ({
    create: () => {
      throw new Error('an HTTP journey opens no long connection');
    },
    dispose: () => undefined,
  })],
]);

/** The request protocol for `name`; throws when none is registered (validation rejects unknown names first). */
export function requestProtocolNamed(name: string): Protocol {
  const protocol = requestProtocols.get(name);
  if (protocol === undefined) throw new Error(`no request protocol named ${JSON.stringify(name)}`);
  return protocol;
}

/** The session factory maker for `name`; throws when none is registered. */
export function sessionProtocolNamed(name: string): (options: SessionOptions) => SessionFactory {
  const protocol = sessionProtocols.get(name);
  if (protocol === undefined) throw new Error(`no session protocol named ${JSON.stringify(name)}`);
  return protocol;
}
