import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/**
 * Throwaway network namespaces for multi-host tests: one namespace holding a
 * Linux bridge, and one namespace per "host" with a veth into that bridge,
 * all on one private /24. Needs root and iproute2; everything is named
 * `<prefix><pid>-…` so leftovers of a crashed run can be found and removed.
 */

/** Every namespace a test run creates starts with this. */
export const netnsPrefix = 'spear-t-';

/** Runs `ip ARGS` synchronously; throws with ip's own message on failure. */
export function ip(args: readonly string[]): string {
  const done = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (done.error !== undefined) throw new Error(`ip ${args.join(' ')}: ${done.error.message}`);
  if (done.status !== 0) throw new Error(`ip ${args.join(' ')} exited ${done.status ?? done.signal}: ${done.stderr.trim()}`);
  return done.stdout;
}

/**
 * Why namespace tests cannot run here, or undefined when they can. Probes
 * for real: root, an `ip` binary, and an `ip netns add` that works (a
 * container without CAP_SYS_ADMIN fails only at that step).
 */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces are Linux-only (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (run the tests as root, e.g. in CI)';
  const version = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (version.error !== undefined || version.status !== 0) return 'no `ip` command (install iproute2)';
  const probe = `${netnsPrefix}${process.pid}-probe`;
  try {
    ip(['netns', 'add', probe]);
  } catch (error) {
    return `\`ip netns add\` failed: ${(error as Error).message}`;
  }
  try {
    ip(['netns', 'del', probe]);
  } catch {
    // Removed again by cleanLeftovers on the next run.
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes namespaces left by earlier runs: ours (this pid) and those of test
 * processes that no longer exist, with whatever still runs inside them.
 * Namespaces of a concurrent live run are left alone.
 */
export function cleanLeftovers(): void {
  const names = ip(['netns', 'list']).split('\n').map((line) => line.split(' ')[0] ?? '');
  for (const name of names) {
    const owner = new RegExp(`^${netnsPrefix}(\\d+)-`).exec(name);
    if (owner === null) continue;
    const pid = Number(owner[1]);
    if (pid !== process.pid && alive(pid)) continue;
    removeNamespace(name);
  }
}

/** Kills what runs inside `name` (leftovers only: live runs stop their own processes), then deletes it; veths die with it. */
function removeNamespace(name: string): void {
  try {
    for (const pid of ip(['netns', 'pids', name]).split('\n').filter((line) => line !== '')) process.kill(Number(pid), 'SIGKILL');
  } catch {
    // Already gone.
  }
  try {
    ip(['netns', 'del', name]);
  } catch {
    // Already gone.
  }
}

/** One simulated host: its namespace, its address, and its veth's name on the bridge side. */
export interface Host {
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
  readonly bridgePort: string;
}

export interface TestNetwork {
  readonly hosts: ReadonlyMap<string, Host>;
  host(name: string): Host;
  /** Cuts a host off: its veth goes down on the bridge side, so its peer loses carrier and nothing (no FIN, no RST) gets through. */
  cut(name: string): void;
  /** Deletes every namespace of this network (and with them the veths and the bridge). Never throws. */
  destroy(): void;
}

/**
 * Builds the network: namespace `<prefix><pid>-br` with bridge br0, and for
 * each host `<prefix><pid>-<host>` with `eth0` at 10.213.<pid % 250>.<10 + i>/24
 * and `lo` up. On failure, whatever was created is removed before throwing.
 */
export function createNetwork(hostNames: readonly string[]): TestNetwork {
  const base = `${netnsPrefix}${process.pid}-`;
  const subnet = `10.213.${process.pid % 250}`;
  const bridge = `${base}br`;
  const created: string[] = [];
  const hosts = new Map<string, Host>();
  const destroy = (): void => {
    for (const namespace of created.reverse()) removeNamespace(namespace);
    created.length = 0;
  };
  try {
    ip(['netns', 'add', bridge]);
    created.push(bridge);
    ip(['-n', bridge, 'link', 'set', 'lo', 'up']);
    ip(['-n', bridge, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', bridge, 'link', 'set', 'br0', 'up']);
    hostNames.forEach((name, index) => {
      const host: Host = { name, namespace: `${base}${name}`, address: `${subnet}.${10 + index}`, bridgePort: `v${index}-${name}`.slice(0, 15) };
      ip(['netns', 'add', host.namespace]);
      created.push(host.namespace);
      ip(['-n', host.namespace, 'link', 'set', 'lo', 'up']);
      // Created inside the bridge namespace with its peer straight in the host's: no name ever touches the root namespace.
      ip(['-n', bridge, 'link', 'add', host.bridgePort, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.namespace]);
      ip(['-n', bridge, 'link', 'set', host.bridgePort, 'master', 'br0', 'up']);
      ip(['-n', host.namespace, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
      ip(['-n', host.namespace, 'link', 'set', 'eth0', 'up']);
      hosts.set(name, host);
    });
  } catch (error) {
    destroy();
    throw error;
  }
  const host = (name: string): Host => {
    const found = hosts.get(name);
    if (found === undefined) throw new Error(`no host ${name} in this test network`);
    return found;
  };
  return {
    hosts,
    host,
    cut: (name) => {
      ip(['-n', bridge, 'link', 'set', host(name).bridgePort, 'down']);
    },
    destroy,
  };
}

/** A process running inside a namespace, with its output collected. */
export interface NetnsProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` on stdout; rejects if the process exits first or `timeoutMs` passes. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. Safe to call twice. */
  stop(graceMs?: number): Promise<number | string>;
}

/**
 * Starts `node ARGS` in `namespace` through `ip netns exec`, which execs
 * (no fork), so the child's pid is node's own and signals reach it.
 */
export function spawnInNamespace(namespace: string, args: readonly string[]): NetnsProcess {
  const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const watcher of watchers) watcher();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  const waitFor = (pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> => new Promise((resolve, reject) => {
    const done = (): void => {
      watchers.delete(check);
      clearTimeout(timer);
    };
    const check = (): void => {
      const match = pattern.exec(stdout);
      if (match !== null) {
        done();
        resolve(match);
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no ${String(pattern)} on stdout within ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, timeoutMs);
    watchers.add(check);
    void exited.then((code) => {
      if (!watchers.has(check)) return;
      done();
      reject(new Error(`exited (${code}) before printing ${String(pattern)}; stdout: ${stdout}; stderr: ${stderr}`));
    });
    check();
  });
  const stop = async (graceMs = 3000): Promise<number | string> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(killer);
    return code;
  };
  return { child, stdout: () => stdout, stderr: () => stderr, waitFor, exited, stop };
}

/**
 * A counting HTTP server for `node -e`, listening on argv[1]:argv[2]
 * (node -e puts the first extra argument at argv[1]). Counts requests on
 * arrival, per client address. Prints `listening on URL` once bound,
 * `first request` on the first one, and `received {"ADDRESS":N,…}` when it
 * gets SIGTERM, then exits at once without waiting for keep-alive
 * connections (a cut-off client's never close).
 */
export const countingServerScript = `
const { createServer } = require('node:http');
const [host, port] = [process.argv[1], Number(process.argv[2])];
const body = Buffer.alloc(172, 'x');
const received = {};
let first = true;
const server = createServer((request, response) => {
  const from = request.socket.remoteAddress;
  received[from] = (received[from] || 0) + 1;
  if (first) process.stdout.write('first request\\n');
  first = false;
  request.resume();
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  response.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(port, host, () => process.stdout.write('listening on http://' + host + ':' + port + '\\n'));
process.on('SIGTERM', () => {
  process.stdout.write('received ' + JSON.stringify(received) + '\\n', () => process.exit(0));
});
`;

/** The per-address counts the counting server printed on exit, from its stdout; undefined if it printed none. */
export function receivedByAddress(stdout: string): ReadonlyMap<string, number> | undefined {
  const line = /^received (\{.*\})$/m.exec(stdout);
  if (line === null) return undefined;
  const parsed = JSON.parse(line[1]!) as unknown;
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  return new Map(Object.entries(parsed).filter((entry): entry is [string, number] => typeof entry[1] === 'number'));
}
