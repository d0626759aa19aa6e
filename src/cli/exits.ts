/**
 * How a command ends the process. Commands never call process.exit themselves: src/cli.ts,
 * the only module that exits, hands them an Exits.
 */
import type { ExitCodeValue } from '../errors.js';

export interface Exits {
  /** Exits at once with this code (a second Ctrl-C): in-flight work is abandoned. Never returns. */
  now(code: ExitCodeValue): never;
  /**
   * Arms an unref'd timer that exits with process.exitCode if the process is still alive then:
   * nothing lingering (a socket, a stuck agent, a load thread shutting down) may keep it running.
   * Does not block; calling it more than once arms more timers, harmlessly.
   */
  guard(): void;
}
