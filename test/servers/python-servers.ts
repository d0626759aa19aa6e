import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/**
 * Python servers written by others (python-socketio, websockets), started
 * from Debian's packages. Debian's python modules import only under
 * /usr/bin/python3, so that interpreter is used by path.
 */
const python = '/usr/bin/python3';

/** The scripts live beside this file's source (tests run from build/test/servers). */
const scriptDir = fileURLToPath(new URL('../../../test/servers/', import.meta.url));

/** A running python server. */
export interface PythonServer {
  /** The URL it printed: http://127.0.0.1:PORT or ws://127.0.0.1:PORT. */
  readonly url: string;
  /** Stops it (closes its stdin, then kills it if it lingers). */
  close(): Promise<void>;
}

/**
 * Why the python `modules` cannot be imported (naming the Debian package to
 * install), or undefined when they can.
 */
export function pythonMissing(modules: readonly { module: string; debian: string }[]): string | undefined {
  const missing = modules.filter(({ module }) => spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' }).status !== 0);
  if (missing.length === 0) return undefined;
  return `needs ${missing.map(({ debian }) => debian).join(', ')} (apt-get install -y ${missing.map(({ debian }) => debian).join(' ')})`;
}

export const socketIoModules = [
  { module: 'socketio', debian: 'python3-socketio' },
  { module: 'aiohttp', debian: 'python3-aiohttp' },
] as const;

export const websocketsModules = [{ module: 'websockets', debian: 'python3-websockets' }] as const;

/** Starts `test/servers/<script>` with `args` and waits for its "listening on URL" line. */
export async function startPythonServer(script: string, args: readonly string[] = []): Promise<PythonServer> {
  // Its log (python-engineio logs refused transports) stays out of the test output unless it fails to start.
  const child = spawn(python, [`${scriptDir}${script}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    if (log.length < 4096) log += chunk;
  });
  const url = await listeningUrl(child).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${log}`);
  });
  return {
    url,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: string): void => {
      text += chunk;
      const found = /listening on (\S+)/.exec(text);
      if (found === null) return;
      child.off('exit', onExit);
      // Later output is not read, but must not fill the pipe.
      child.stdout!.off('data', onData).resume();
      resolve(found[1]!);
    };
    const onExit = (code: number | null): void => reject(new Error(`python server exited (${String(code)}) before listening`));
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.once('exit', onExit);
  });
}
