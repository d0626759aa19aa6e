import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Knobs of the case-B test scenario. */
export interface CaseBOptions {
  readonly target: string;
  readonly eio: 3 | 4;
  readonly users: number;
  readonly groupSize: number;
  readonly hold: string;
  /** Each user broadcasts once per this interval. */
  readonly every: string;
  readonly reconnect?: string;
}

/**
 * The case-B flow (ticket → Socket.IO connect → auth/auth_result → join →
 * periodic group broadcasts) as a scenario file. Users wait a second after
 * joining before they broadcast, so every member has joined before the
 * first broadcast and "expected" is exact.
 */
export function caseBScenario(options: CaseBOptions): string {
  return `protocol: socketio
target: ${options.target}
socketio: { eio: ${options.eio} }
load: { users: ${options.users}, connectRate: 500/s, hold: ${options.hold} }
groups: { size: ${options.groupSize} }
broadcast: { timeout: 1s }
${options.reconnect ?? ''}
flow:
  - http: { url: "/ticket?userId={{user}}", capture: { url: url, token: token } }
  - connect: { url: "{{url}}" }
  - emit: { event: auth, data: { id: "{{user}}", groupId: "{{group}}", token: "{{token}}" } }
  - expect: { event: auth_result, match: { success: true }, timeout: 5s }
  - join
  - sleep: { duration: 1s }
  - every:
      interval: ${options.every}
      steps:
        - emit: { event: msg, data: { type: 1, groupId: "{{group}}", content: "{{stamp}}" } }
        - expect: { event: msg_result, match: { success: true } }
`;
}

/** Writes a scenario text into `dir` and returns its path. */
export async function writeScenario(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}
