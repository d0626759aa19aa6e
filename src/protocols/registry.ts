import { httpProtocol } from './http/http-protocol.js';
import type { Protocol } from './protocol.js';

/** Every protocol spear speaks, by the name scenarios use. Adding one is one line here. */
export const protocols: ReadonlyMap<string, Protocol> = new Map<string, Protocol>([[httpProtocol.name, httpProtocol]]);

/** The protocol for `name`; throws when none is registered (validation rejects unknown names first). */
export function protocolNamed(name: string): Protocol {
  const protocol = protocols.get(name);
  if (protocol === undefined) throw new Error(`no protocol named ${JSON.stringify(name)}`);
  return protocol;
}
