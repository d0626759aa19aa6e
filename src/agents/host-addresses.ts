import { createServer, isIP } from 'node:net';
import { UsageError } from '../errors.js';
import { planLimits } from '../wire/limits.js';

/**
 * `spear agent --source-addresses A,B`: the IP addresses, each checked to
 * be this host's by binding a listening socket to it (port 0, closed at
 * once), so a typo fails at start and not as EADDRNOTAVAIL on every
 * connect of a run. Throws a UsageError naming the address. May block
 * briefly (one bind per address).
 */
export async function hostSourceAddresses(flag: string): Promise<string[]> {
  const addresses = flag.split(',').map((address) => address.trim()).filter((address) => address !== '');
  if (addresses.length === 0) throw new UsageError('--source-addresses: give IP addresses of this host, comma-separated (e.g. 10.0.0.5,10.0.0.6)');
  if (addresses.length > planLimits.sourceAddresses) throw new UsageError(`--source-addresses: at most ${planLimits.sourceAddresses} addresses`);
  for (const [index, address] of addresses.entries()) {
    if (isIP(address) === 0) throw new UsageError(`--source-addresses: ${JSON.stringify(address)} is not an IP address`);
    if (addresses.indexOf(address) !== index) throw new UsageError(`--source-addresses: ${address} is listed twice`);
    const problem = await bindProblem(address);
    if (problem !== undefined) throw new UsageError(`--source-addresses: cannot use ${address} (${problem}): give addresses of this host (ip addr; any 127.x.y.z on loopback)`);
  }
  return addresses;
}

/** Why binding `address` fails (an error code), or undefined when it works. */
function bindProblem(address: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen({ host: address, port: 0, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}
