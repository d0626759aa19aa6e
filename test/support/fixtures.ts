import { after, before } from 'node:test';
import { startHttpServer, type CountingServer } from '../servers/http-server.js';
import { tempDir } from './spear.js';

/** A counting HTTP server and a temporary directory, shared by a test file's tests. */
export interface HttpFixture {
  readonly server: CountingServer;
  /** The temporary directory's path. */
  readonly dir: string;
}

/**
 * Registers before/after hooks that start a counting HTTP server on
 * 127.0.0.1 and a temporary directory, and stop and remove them; returns
 * a view that is valid inside tests.
 */
export function useHttpFixture(): HttpFixture {
  let server: CountingServer | undefined;
  let dir: { path: string; cleanup: () => Promise<void> } | undefined;
  before(async () => {
    server = await startHttpServer();
    dir = await tempDir();
  });
  after(async () => {
    await server?.close();
    await dir?.cleanup();
  });
  return {
    get server(): CountingServer {
      if (server === undefined) throw new Error('the HTTP fixture is used outside a test');
      return server;
    },
    get dir(): string {
      if (dir === undefined) throw new Error('the HTTP fixture is used outside a test');
      return dir.path;
    },
  };
}
