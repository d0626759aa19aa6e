import { lookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';

/**
 * Resolves a host name to every address it has (the system resolver, as
 * net.connect would use it). Calls back once; may be called concurrently.
 */
export type HostResolver = (host: string, callback: (error: NodeJS.ErrnoException | null, addresses: readonly LookupAddress[]) => void) => void;

/** getaddrinfo through libuv's thread pool: what Node's sockets use by default. */
export const systemResolver: HostResolver = (host, callback) => {
  lookup(host, { all: true }, (error, addresses) => callback(error, error === null ? addresses : []));
};

/**
 * The resolver target policies use: the system's, unless the test-only
 * SPEAR_TEST_RESOLVE scripts some names (no /etc/hosts edits in tests).
 *
 * SPEAR_TEST_RESOLVE="NAME=ADDR,ADDR,…[;NAME=…]": the k-th lookup of NAME
 * in this thread answers the k-th ADDR, the last one from then on (a name
 * re-pointed after it was checked: DNS rebinding). Other names go to the
 * system resolver. Each call builds a fresh script.
 */
export function resolverFromEnvironment(environment: NodeJS.ProcessEnv = process.env): HostResolver {
  const raw = environment.SPEAR_TEST_RESOLVE;
  if (raw === undefined || raw === '') return systemResolver;
  const scripts = new Map<string, { readonly addresses: readonly string[]; next: number }>();
  for (const entry of raw.split(';')) {
    const [name, list] = entry.split('=');
    const addresses = (list ?? '').split(',').filter((address) => isIP(address) !== 0);
    if (name !== undefined && name !== '' && addresses.length > 0) scripts.set(name.toLowerCase(), { addresses, next: 0 });
  }
  return (host, callback) => {
    const script = scripts.get(host.toLowerCase());
    if (script === undefined) {
      systemResolver(host, callback);
      return;
    }
    const address = script.addresses[Math.min(script.next, script.addresses.length - 1)]!;
    script.next += 1;
    process.nextTick(callback, null, [{ address, family: isIP(address) }]);
  };
}
