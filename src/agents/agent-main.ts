/**
 * Entry point of a local agent process, forked by `spear run` with an IPC
 * channel. Exits when its coordinator disconnects.
 */
import { parseCoordinatorMessage } from '../wire/parse.js';
import { parentTransport } from '../wire/transport.js';
import { serveCoordinator, type CoordinatorLink } from './agent.js';

// Ctrl-C in a terminal reaches the whole process group: the coordinator decides how the run stops
// (stop, drain, last interval), so a local agent must not die on it.
process.on('SIGINT', () => undefined);

const link: CoordinatorLink = parentTransport(parseCoordinatorMessage);
await serveCoordinator(link);
process.exitCode = 0;
