/**
 * Entry point of a local agent process, forked by `spear run` with an IPC
 * channel. Exits when its coordinator disconnects.
 */
import { parseCoordinatorMessage } from '../wire/parse.js';
import { parentTransport } from '../wire/transport.js';
import { serveCoordinator, type CoordinatorLink } from './agent.js';

const link: CoordinatorLink = parentTransport(parseCoordinatorMessage);
await serveCoordinator(link);
process.exitCode = 0;
