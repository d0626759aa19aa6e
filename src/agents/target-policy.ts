import type { LookupAddress, LookupOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { ExchangeError } from '../protocols/exchange-error.js';
import { resolverFromEnvironment, type HostResolver } from './host-resolver.js';

/**
 * Where an agent may send load (`spear agent --allow-target`, repeatable):
 * CIDR blocks, single addresses, or host names. A host name not listed is
 * allowed when every address it resolves to is. An agent is a capability to
 * generate traffic; this is how its owner bounds it.
 *
 * Two checks, because a name can be re-pointed between them (DNS
 * rebinding): `allows` decides once per host name (a plan, a flow URL), and
 * `lookup`, given to every socket the load opens, checks the addresses that
 * socket is about to connect to. Only `lookup` is a guarantee.
 */
export class TargetPolicy {
  readonly #blocks = new BlockList();
  readonly #hosts = new Set<string>();
  readonly #entries: readonly string[];
  readonly #decided = new Map<string, Promise<boolean>>();
  readonly #resolve: HostResolver;

  private constructor(entries: readonly string[], resolve: HostResolver) {
    this.#entries = entries;
    this.#resolve = resolve;
  }

  /** Parses the entries, or returns the first bad one's problem. `resolve` defaults to the system's (or SPEAR_TEST_RESOLVE's). */
  static parse(entries: readonly string[], resolve: HostResolver = resolverFromEnvironment()): TargetPolicy | string {
    const policy = new TargetPolicy(entries, resolve);
    for (const entry of entries) {
      const problem = policy.#add(entry.trim());
      if (problem !== undefined) return problem;
    }
    return policy;
  }

  /** The entries as given (to rebuild the policy on another thread). */
  get entries(): readonly string[] {
    return this.#entries;
  }

  /** What the agent allows, for messages. */
  describe(): string {
    return this.#entries.join(', ');
  }

  /** Whether load may go to `host` (a name or an address, IPv6 with or without brackets). Cached per host. */
  allows(host: string): Promise<boolean> {
    const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    let decided = this.#decided.get(bare);
    if (decided === undefined) {
      decided = this.#decide(bare);
      this.#decided.set(bare, decided);
    }
    return decided;
  }

  #decide(host: string): Promise<boolean> {
    if (this.#hosts.has(host)) return Promise.resolve(true);
    if (isIP(host) !== 0) return Promise.resolve(this.#addressAllowed(host));
    return new Promise((resolve) => {
      this.#resolve(host, (error, addresses) => resolve(error === null && addresses.length > 0 && this.#refused(addresses) === undefined));
    });
  }

  /**
   * A `lookup` for net/tls.connect, ws and undici (`connect.lookup`): resolves
   * the name and hands the socket its addresses only when every one it may
   * try is allowed; otherwise the connection fails with SPEAR_TARGET_NOT_ALLOWED
   * before any packet leaves. A name listed in the policy is trusted with
   * whatever it resolves to. (Sockets to a literal address never call
   * `lookup`: `allows` already decided those, and they cannot be re-pointed.)
   * Called once per connection attempt, never per request; not cached, so
   * every connection sees the name's current addresses.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const host = hostname.toLowerCase();
    this.#resolve(host, (error, resolved) => {
      if (error !== null) return callback(error, options.all === true ? [] : '');
      // Only the addresses this socket may try are checked: those are where it could go.
      const addresses = ofFamily(resolved, options);
      const first = addresses[0];
      if (first === undefined) return callback(new ExchangeError('ENOTFOUND', `${hostname} has no address of the family asked for`), options.all === true ? [] : '');
      const refused = this.#hosts.has(host) ? undefined : this.#refused(addresses);
      if (refused !== undefined) {
        const denied = new ExchangeError('SPEAR_TARGET_NOT_ALLOWED', `${hostname} now resolves to ${refused.address}: this agent may not send load there; it allows only ${this.describe()} (spear agent --allow-target)`);
        return callback(denied, options.all === true ? [] : '');
      }
      if (options.all === true) callback(null, addresses.slice());
      else callback(null, first.address, first.family);
    });
  };

  /** The first address the policy refuses, if any. */
  #refused(addresses: readonly LookupAddress[]): LookupAddress | undefined {
    return addresses.find((address) => !this.#addressAllowed(address.address));
  }

  #addressAllowed(address: string): boolean {
    return this.#blocks.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  }

  #add(entry: string): string | undefined {
    const slash = entry.indexOf('/');
    if (slash >= 0) {
      const network = entry.slice(0, slash);
      const prefix = Number(entry.slice(slash + 1));
      const family = isIP(network);
      if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
        return `--allow-target ${entry}: expected a CIDR block such as 10.0.0.0/8, an address, or a host name`;
      }
      this.#blocks.addSubnet(network, prefix, family === 4 ? 'ipv4' : 'ipv6');
      return undefined;
    }
    const family = isIP(entry);
    if (family !== 0) {
      this.#blocks.addAddress(entry, family === 4 ? 'ipv4' : 'ipv6');
      return undefined;
    }
    if (!/^[A-Za-z0-9.-]+$/.test(entry)) return `--allow-target ${entry}: expected a CIDR block such as 10.0.0.0/8, an address, or a host name`;
    this.#hosts.add(entry.toLowerCase());
    return undefined;
  }
}

/** The addresses of the family the socket asked for (0 or undefined: any). */
function ofFamily(addresses: readonly LookupAddress[], options: LookupOptions): readonly LookupAddress[] {
  const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
  if (family !== 4 && family !== 6) return addresses;
  return addresses.filter((address) => address.family === family);
}
