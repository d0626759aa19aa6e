import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where an agent may send load (`spear agent --allow-target`, repeatable):
 * CIDR blocks, single addresses, or host names. A host name not listed is
 * allowed when every address it resolves to is. An agent is a capability to
 * generate traffic; this is how its owner bounds it.
 */
export class TargetPolicy {
  readonly #blocks = new BlockList();
  readonly #hosts = new Set<string>();
  readonly #entries: readonly string[];
  readonly #decided = new Map<string, Promise<boolean>>();

  private constructor(entries: readonly string[]) {
    this.#entries = entries;
  }

  /** Parses the entries, or returns the first bad one's problem. */
  static parse(entries: readonly string[]): TargetPolicy | string {
    const policy = new TargetPolicy(entries);
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

  async #decide(host: string): Promise<boolean> {
    if (this.#hosts.has(host)) return true;
    if (isIP(host) !== 0) return this.#addressAllowed(host);
    try {
      const addresses = await lookup(host, { all: true });
      return addresses.length > 0 && addresses.every((address) => this.#addressAllowed(address.address));
    } catch {
      return false;
    }
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
