import { maxUserWeightPeriod } from '../scenarios/user-assignment.js';

/**
 * The bounds an agent puts on every field of a received plan. A plan is
 * checked for types *and* sizes before anything is built from it: an agent
 * is a network service, and one number (`pipelining: 5e7` grew an agent to
 * 4.2 GB) must not be able to exhaust its memory, overflow a timer or wedge
 * its loop. A field outside its bound is a WireError naming the field and
 * the bound, e.g. `plan.load.pipelining: expected an integer from 1 to 1024,
 * got 50000000`.
 *
 * The numeric bounds are as wide as (or wider than) the scenario
 * validator's (durations ≤ 500 h, timeouts ≤ 24 h, interval ≥ 100 ms, rates
 * ≤ 10,000,000/s, connections ≤ 1,000,000, pipelining ≤ 256, users ≤
 * 10,000,000), so a plan `spear run` builds from a valid scenario passes,
 * with one exception a scenario can still express: more than 1,048,576
 * request slots (connections × pipelining) on one agent. Sizes (string
 * lengths, list lengths, nesting) have no scenario counterpart; they are far
 * above any real scenario's.
 *
 * | field                                                      | bound                          |
 * | ---------------------------------------------------------- | ------------------------------ |
 * | agentCount                                                 | integer 1 … 10,000             |
 * | agentId                                                    | integer 0 … agentCount − 1     |
 * | load.connections (http)                                    | integer 1 … 1,000,000          |
 * | load.pipelining (http, closed model)                       | integer 1 … 1,024              |
 * | connections × pipelining (request slots on one agent)      | ≤ 1,048,576                    |
 * | load.startRatePerS, load.stages[].ratePerS                 | 0 … 10,000,000 per second      |
 * | load.users, groups.size                                    | integer 1 … 10,000,000         |
 * | load.stages[].users (long connections)                     | integer 0 … load.users         |
 * | reconnect.attempts                                         | integer 1 … 1,000,000          |
 * | every duration: load.durationMs, holdMs, stages, timeouts, | above 0 … 2^31−1 ms (~24.8 d)  |
 * |   maxDelayMs, broadcast.timeoutMs, expect/sleep/every      |                                |
 * | reconnect.initialDelayMs, reconnect.maxDelayMs             | 0 … 2^31−1 ms                  |
 * | intervalMs (report interval)                               | 100 … 2^31−1 ms                |
 * | requests, load.stages                                      | 1 … 10,000 entries             |
 * | headers (requests, http steps), captures                   | ≤ 100 entries                  |
 * | flow steps (all levels together), every nesting            | ≤ 10,000 steps, ≤ 8 levels     |
 * | expect.match                                               | JSON nested ≤ 32 levels        |
 * | connection.sourceAddresses                                 | ≤ 1,024, each an IP address    |
 * | userWeights (absent: equal)                                | one integer ≥ 1 per agent,     |
 * |                                                            |   adding up to ≤ 1,000,000     |
 * | feeder.columns, cells per feeder row                       | ≤ 1,024                        |
 * | target, request path, step url, header and capture values  | ≤ 8,192 characters             |
 * | method, header/capture names, events, socketio path/ns     | ≤ 256 characters               |
 * | request and http step names (default "METHOD path")        | ≤ 8,449 characters             |
 * | request body, step body/data/auth/contains                 | ≤ 16 MiB (16,777,216 chars)    |
 * | feeder cells, feeder.file                                  | ≤ 65,536 characters            |
 * | tls.ca.pem, tls.cert.pem, tls.key.pem (PEM text)           | ≤ 1 MiB (1,048,576 chars) each |
 * | tls.ca.file, tls.cert.file, tls.key.file                   | ≤ 65,536 characters            |
 * | tls.servername                                             | ≤ 256 characters               |
 *
 * The whole message is also capped at 64 MiB by the agent server.
 */
export const planLimits = {
  agents: 10_000,
  connections: 1_000_000,
  pipelining: 1024,
  requestSlots: 1_048_576,
  ratePerS: 10_000_000,
  users: 10_000_000,
  reconnectAttempts: 1_000_000,
  /** The largest delay Node's timers take (2^31−1 ms); larger ones fire at once. */
  durationMs: 2_147_483_647,
  minIntervalMs: 100,
  listItems: 10_000,
  mapEntries: 100,
  flowSteps: 10_000,
  flowDepth: 8,
  matchDepth: 32,
  sourceAddresses: 1024,
  /** Sum of a plan's userWeights: the agent sorts a table this long once (src/scenarios/user-assignment.ts). */
  userWeightPeriod: maxUserWeightPeriod,
  feederColumns: 1024,
  urlChars: 8192,
  nameChars: 256,
  /** A request or http step name: one given (≤ 256) or the default "METHOD path-or-url". */
  requestNameChars: 256 + 1 + 8192,
  bodyChars: 16 * 1024 * 1024,
  textChars: 65_536,
  /** The scenario loader's own bound on PEM files (`maxPemBytes`); PEM is ASCII, so bytes = characters. */
  pemChars: 1024 * 1024,
} as const;
