#!/usr/bin/env node
// bench/fleet-merge.mjs: the coordinator at fleet size, simulated (issue 13 item 7).
//
// Feeds spear's coordinator-side merge the interval reports of N simulated agents
// and measures, per 1 s interval: the CPU and wall time spent receiving and merging
// all N reports (as a share of one core per second), the lag from the last report
// of an interval arriving to the merged interval being available, and the heap and
// RSS over the run (is memory flat?).
//
// What is real and what is simulated:
//   - Real, from dist/: the path a remote agent's report takes in a coordinator.
//     WebSocketTransport.onMessage (Buffer -> toString -> JSON.parse ->
//     parseAgentMessage), AgentHandle (phase, heartbeats), the event wiring of
//     runScenario (src/coordinator/run.ts, copied below: it is a closure there, so
//     keep the copy in step; abort-on-fail is left out),
//     RunMerger.add (each histogram inflated once, its counts added exactly into the
//     merged ones; bounded agent health; per-interval close, summary, encode), SessionMerger, BroadcastLedger (receipts, membership, settling with
//     saturationLookup over the merger's bounded fleetHealth), the live progress ('lines' view,
//     written to a sink), and at the end buildResult and the result file's JSON.
//   - Simulated: the agents and the socket. Each agent is a fake ws socket (an
//     EventEmitter that answers the transport's pings) that emits exactly the
//     bytes a ws 'message' event carries: the JSON text of the real IntervalMessage
//     (src/wire/messages.ts), built as src/agents/load-run.ts builds it, with
//     histograms encoded by the real Recorder / SessionRecorder (src/metrics/), and
//     one heartbeat per agent per interval. Not counted: ws frame decoding and the
//     socket reads (kernel), which a real coordinator also pays, and the clock
//     probes (8 pings per agent every 15 s). The agents' pongs are handed to the
//     transports after each batch (see the subtleness note in runOne).
//   - HTTP mode: each agent reports REQS (3,000) latencies per interval (lognormal,
//     median ~2 ms, a tail to ~50 ms; service time ~0.9 of it), statuses (some 503s),
//     now and then a read error; gauges. Histograms come from a pool of POOL real
//     encodings (the coordinator decodes each report anew, so reuse costs it nothing).
//   - Broadcast mode (case B accounting): USERS_PER_AGENT users per agent, user i on
//     agent i mod N in group floor(i / GROUP) (as spear plans), each broadcasting once
//     every EVERY s (spread over the intervals); every member (sender included, the
//     default) gets a copy 2-6 ms later, 1 in 5,000 copies 6 s late (past the 5 s
//     broadcast.timeout), 1 in 10,000 never; one user a second drops and rejoins
//     5 s later. Each agent reports what BroadcastTracker.takeInterval reports: its
//     sends [group, seq, user, sentUs], one receipt row per broadcast its users got
//     copies of [senderAgent, seq, delivered, late, dup, ooo, nonMember, unexpected,
//     firstUs, lastUs], membership changes; session counters and the connect, reply
//     and delivery histograms (pooled real encodings of as many values as the agent
//     received). With N >= GROUP every member of a group is on another agent, so the
//     coordinator gets one receipt row per delivery: the table prints rows/s.
//
// Pacing: PACE=burst (default) delivers each interval's reports back to back, with
// no idle time between intervals (every agent reports at the same boundary, as
// clock-synchronized agents do; the last report waits behind the others, so lag is
// the whole batch); PACE=real spaces the intervals 1 s apart in real time, as a run
// does (slower: one second per interval). CPU is everything the process used from
// the end of the warm-up on, per interval (the batches, GC between them, reading the
// pipe, the transports' ping timers), minus the bench's own forced GCs; batch CPU is
// the batches alone. The reports are built by a child process (this same file with
// --generate) and streamed over a pipe, an interval ahead of the batch: the measured
// process spends nothing, not even GC, on building them.
//
// How to run (from the repo root, after npm run build):
//   node bench/fleet-merge.mjs                                   # defaults: 1.5 min on an idle machine, 4 on a busy one
//   AGENTS="100 200 500 1000" MODE=http node bench/fleet-merge.mjs
//   MODE=broadcast USERS_PER_AGENT=20 AGENTS=500 node bench/fleet-merge.mjs
//   PACE=real INTERVALS=30 AGENTS=500 MODE=http node bench/fleet-merge.mjs
//   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/fleet-merge.mjs   # where the time goes
//
// Env knobs (defaults in brackets)
//   AGENTS ["100 500"], MODE ["http broadcast"], INTERVALS [60 for http, 75 for
//   broadcast: the ledger settles a broadcast 57 s after it was sent, so memory can
//   only flatten after that], PACE [burst], WARMUP [5] intervals left out of the CPU
//   figures, REQS [3000], POOL [32], USERS_PER_AGENT [100], GROUP [100], EVERY [20] s,
//   PROGRESS [lines | none], RESULT [1: build and serialize the result file at the end],
//   FLAT_MB_H [50]: heap growth per hour still called flat, IDLE_WAIT [15] s to wait for an
//   idle machine before each run, DETAIL [0; 1 prints every interval]
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Writable } from 'node:stream';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { constants } from 'node:buffer';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(REPO, 'dist', 'metrics', 'merger.js'))) throw new Error('dist/ is missing: run npm run build first');
const dist = async (path) => import(pathToFileURL(join(REPO, 'dist', path)).href);
const { AgentHandle } = await dist('coordinator/agent-handle.js');
const { BroadcastLedger } = await dist('coordinator/broadcast-ledger.js');
const { WebSocketTransport } = await dist('wire/web-socket-transport.js');
const { parseAgentMessage } = await dist('wire/parse.js');
const { RunMerger } = await dist('metrics/merger.js');
const { saturationLookup } = await dist('metrics/generator-verdict.js');
const { Recorder } = await dist('metrics/recorder.js');
const { SessionRecorder } = await dist('metrics/session-recorder.js');
const { ReceiptRows } = await dist('wire/receipt-rows.js');
const { createProgress } = await dist('report/progress.js');
const { buildResult } = await dist('report/result.js');
const { parseScenario } = await dist('scenarios/load.js');

const env = (name, fallback) => process.env[name] ?? fallback;
const num = (name, fallback) => {
  const value = Number(env(name, String(fallback)));
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0`);
  return value;
};
const config = {
  agents: env('AGENTS', '100 500').split(/[\s,]+/).filter(Boolean).map(Number),
  modes: env('MODE', 'http broadcast').split(/[\s,]+/).filter(Boolean),
  intervals: process.env.INTERVALS === undefined ? undefined : num('INTERVALS', 60),
  pace: env('PACE', 'burst'),
  warmup: num('WARMUP', 5),
  reqs: num('REQS', 3000),
  pool: Math.max(1, num('POOL', 32)),
  usersPerAgent: Math.max(1, num('USERS_PER_AGENT', 100)),
  group: Math.max(1, num('GROUP', 100)),
  everyS: Math.max(1, Math.round(num('EVERY', 20))),
  progress: env('PROGRESS', 'lines'),
  result: env('RESULT', '1') !== '0',
  flatMbPerHour: num('FLAT_MB_H', 50),
  idleWait: num('IDLE_WAIT', 15),
  detail: env('DETAIL', '0') === '1',
};
for (const mode of config.modes) if (mode !== 'http' && mode !== 'broadcast') throw new Error(`MODE: expected http and/or broadcast, got ${mode}`);
if (config.pace !== 'burst' && config.pace !== 'real') throw new Error('PACE: expected burst or real');
if (config.agents.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('AGENTS: expected positive integers');

const intervalMs = 1000;
const broadcastTimeoutMs = 5000;
const log = (...parts) => process.stderr.write(`${parts.join(' ')}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes) => bytes / 1048576;
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

/** A deterministic PRNG (mulberry32). */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = random(13);
const lognormal = (medianUs, sigma) => {
  const u = 1 - rand();
  const v = rand();
  return medianUs * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
};
/** A 32-bit mix of a few integers, for deterministic per-copy decisions. */
function hash(a, b, c) {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35) ^ Math.imul(c + 0x27d4eb2f, 0x165667b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}

// ---------------------------------------------------------------- pools of real encodings

function httpPool() {
  const pool = [];
  for (let p = 0; p < config.pool; p += 1) {
    const recorder = new Recorder();
    const requests = Math.round(config.reqs * (0.9 + 0.2 * rand()));
    for (let i = 0; i < requests; i += 1) {
      const latency = rand() < 0.002 ? lognormal(30_000, 0.5) : lognormal(2000, 0.5);
      recorder.response(rand() < 0.001 ? 503 : 200, 172 + 130, latency, latency * (0.85 + 0.1 * rand()));
    }
    if (p % 8 === 3) recorder.failureKey('read:ECONNRESET', new Error('read ECONNRESET'));
    pool.push(recorder.takeInterval(Math.round(rand() * 20), 200));
  }
  return pool;
}

/** Pooled real encodings of `count` values around `medianUs`, for the session histograms. */
function sessionHistogramPool(count, medianUs, sigma) {
  const pool = [];
  for (let p = 0; p < config.pool; p += 1) {
    const recorder = new SessionRecorder();
    const n = Math.max(0, Math.round(count * (0.9 + 0.2 * rand())));
    for (let i = 0; i < n; i += 1) recorder.delivered(lognormal(medianUs, sigma));
    pool.push(recorder.takeInterval(0, 0, 0).histograms.delivery);
  }
  return pool;
}

const emptyEncoded = new Recorder().takeInterval(0, 0).histograms.latency;

function healthOf(agent, index) {
  const r = random(hash(agent, index, 7));
  const p99 = 3 + r() * 10;
  return {
    loopDelayMs: { p50: Math.round(10 * (1 + r())) / 10, p99: Math.round(10 * p99) / 10, max: Math.round(10 * (p99 + r() * 20)) / 10 },
    elu: Math.round(1000 * (0.3 + 0.3 * r())) / 1000,
    cpu: Math.round(1000 * (0.3 + 0.3 * r())) / 1000,
    rssMb: Math.round(10 * (140 + 20 * r())) / 10,
    heapMb: Math.round(10 * (40 + 10 * r())) / 10,
    connecting: 0,
    connectsStarted: 0,
    connectsBehind: 0,
  };
}

// ---------------------------------------------------------------- the agents' reports

/** HTTP mode: agent `agent`'s report for interval `index`, as JSON text. */
function httpReports(n, pool, t0Ms) {
  return (index) => {
    const messages = [];
    for (let agent = 0; agent < n; agent += 1) {
      const { counters, histograms } = pool[(agent * 7 + index * 13) % pool.length];
      messages.push({
        type: 'interval', agentId: agent, index, startMs: t0Ms + index * intervalMs, endMs: t0Ms + (index + 1) * intervalMs,
        counters, histograms, health: healthOf(agent, index),
      });
    }
    return { messages, rows: 0 };
  };
}

/**
 * Broadcast mode: the whole fleet's broadcasts, deliveries and membership, kept
 * consistent across agents (the ledger must find every expected copy), and each
 * agent's report per interval.
 */
function broadcastReports(n, t0Ms) {
  const usersPerAgent = config.usersPerAgent;
  const users = n * usersPerAgent;
  const group = config.group;
  const every = config.everyS;
  const baseUs = t0Ms * 1000;
  const seqs = new Array(n).fill(0);
  /** Receipt rows waiting for the interval their copies arrive in: interval → per receiving agent, key → row. */
  const pending = new Map();
  /** Users that dropped: user → rejoin time (µs); they get no copies meanwhile. */
  const away = new Map();
  const pendingFor = (interval, agent) => {
    let byAgent = pending.get(interval);
    if (byAgent === undefined) pending.set(interval, (byAgent = Array.from({ length: n }, () => new Map())));
    return byAgent[agent];
  };
  // Pools sized by what one agent records per interval.
  const receivedPerAgent = (usersPerAgent * group) / every;
  const deliveryPool = sessionHistogramPool(receivedPerAgent, 3500, 0.4);
  const replyPool = sessionHistogramPool(usersPerAgent / every, 4000, 0.4);
  const connectPool = sessionHistogramPool(usersPerAgent, 15_000, 0.5);
  const ticket = (() => {
    const recorder = new Recorder();
    for (let i = 0; i < usersPerAgent; i += 1) {
      const latency = lognormal(3000, 0.4);
      recorder.response(200, 250, latency, latency);
    }
    return recorder.takeInterval(0, 0);
  })();
  const idleHttp = new Recorder().takeInterval(0, 0);

  return (index) => {
    const startUs = baseUs + index * intervalMs * 1000;
    const endUs = startUs + intervalMs * 1000;
    const sent = Array.from({ length: n }, () => []);
    const membership = Array.from({ length: n }, () => []);
    const churn = Array.from({ length: n }, () => ({ disconnects: 0, reconnects: 0 }));
    if (index === 0) {
      for (let user = 0; user < users; user += 1) membership[user % n].push([Math.floor(user / group), baseUs + 1000 + (user % 900) * 1000, 1]);
    } else {
      // One user a second drops (leaves its group) and rejoins 5 s later; meanwhile it gets no copies.
      for (const [user, span] of away) if (span.rejoinUs < startUs) away.delete(user);
      const user = hash(index, 1, 2) % users;
      if (!away.has(user)) {
        const leftUs = startUs + 500_000;
        away.set(user, { leftUs, rejoinUs: leftUs + 5_000_000 });
        membership[user % n].push([Math.floor(user / group), leftUs, -1]);
        churn[user % n].disconnects += 1;
      }
      for (const [back, span] of away) {
        if (span.rejoinUs >= startUs && span.rejoinUs < endUs) {
          membership[back % n].push([Math.floor(back / group), span.rejoinUs, 1]);
          churn[back % n].reconnects += 1;
        }
      }
    }
    const absent = (user, atUs) => {
      const span = away.get(user);
      return span !== undefined && span.leftUs <= atUs && atUs < span.rejoinUs;
    };
    // This interval's senders: user i sends in every interval k with (i + k) mod EVERY = 0 (from interval 1: all join in 0).
    for (let user = (every - (index % every)) % every; index > 0 && user < users; user += every) {
      const agent = user % n;
      const groupId = Math.floor(user / group);
      const sentUs = startUs + 20_000 + ((user * 7919) % 960_000);
      if (absent(user, sentUs)) continue;
      const seq = seqs[agent]++;
      sent[agent].push([groupId, seq, user, sentUs]);
      const last = Math.min(users, (groupId + 1) * group);
      for (let member = groupId * group; member < last; member += 1) {
        if (absent(member, sentUs)) continue;
        const h = hash(member, agent, seq);
        if (h % 10_000 === 0) continue;
        const late = h % 5000 === 1;
        const receivedUs = sentUs + 2000 + (h % 4000) + (late ? broadcastTimeoutMs * 1000 + 1_000_000 : 0);
        const receiver = member % n;
        const rows = pendingFor(Math.floor((receivedUs - baseUs) / (intervalMs * 1000)), receiver);
        const key = agent * 1048576 + seq; // a small integer (agents < 2048, seqs < 2^20 here): fast Map keys
        let row = rows.get(key);
        if (row === undefined) rows.set(key, (row = [agent, seq, 0, 0, 0, 0, 0, 0, 0, 0, groupId]));
        if (late) row[3] += 1;
        else row[2] += 1;
        if (row[8] === 0 || receivedUs < row[8]) row[8] = receivedUs;
        if (receivedUs > row[9]) row[9] = receivedUs;
      }
    }
    const due = pending.get(index);
    pending.delete(index);
    const messages = [];
    let rowsTotal = 0;
    for (let agent = 0; agent < n; agent += 1) {
      const receipts = due === undefined ? [] : [...due[agent].values()];
      rowsTotal += receipts.length;
      let delivered = 0;
      let late = 0;
      for (const row of receipts) {
        delivered += row[2];
        late += row[3];
      }
      const sends = sent[agent].length;
      const pick = (pool) => pool[(agent * 7 + index * 13) % pool.length];
      const http = index === 0 ? ticket : idleHttp;
      const connected = usersPerAgent - [...away.keys()].filter((user) => user % n === agent && absent(user, endUs - 1)).length;
      messages.push({
        type: 'interval', agentId: agent, index, startMs: t0Ms + index * intervalMs, endMs: t0Ms + (index + 1) * intervalMs,
        counters: { ...http.counters, connections: connected },
        histograms: http.histograms,
        sessions: {
          counters: {
            usersStarted: index === 0 ? usersPerAgent : 0,
            opened: (index === 0 ? usersPerAgent : 0) + churn[agent].reconnects,
            failed: 0,
            disconnects: churn[agent].disconnects,
            reconnects: churn[agent].reconnects,
            connected,
            joined: connected,
            messagesSent: sends,
            messagesReceived: delivered + late + sends,
            broadcastsSent: sends,
            delivered,
            late,
            duplicated: 0,
            outOfOrder: 0,
            nonMember: 0,
            unexpected: 0,
            allConnectedUs: baseUs + 900_000,
          },
          histograms: {
            connect: index === 0 ? pick(connectPool) : emptyEncoded,
            reply: sends === 0 ? emptyEncoded : pick(replyPool),
            delivery: delivered + late === 0 ? emptyEncoded : pick(deliveryPool),
          },
          sent: sent[agent],
          receipts: ReceiptRows.of(receipts), // base64 columns in the JSON, as BroadcastTracker's agents send them
          membership: membership[agent],
        },
        health: healthOf(agent, index),
      });
    }
    return { messages, rows: rowsTotal };
  };
}

// ---------------------------------------------------------------- the coordinator, as runScenario wires it

/** A ws socket as WebSocketTransport uses it: the agent side is this harness. */
class FakeSocket extends EventEmitter {
  readyState = 1; // WebSocket.OPEN
  sent = 0;
  send() {
    this.sent += 1;
  }
  ping() {
    queueMicrotask(() => this.emit('pong'));
  }
  close() {
    this.readyState = 3;
  }
  terminate() {
    this.readyState = 3;
  }
}

const sink = new Writable({ write: (_chunk, _encoding, done) => done() });

function scenarioFor(mode, n, intervals) {
  const yaml = mode === 'http'
    ? `name: fleet-merge http\ntarget: http://127.0.0.1:8080\nduration: ${intervals}s\nload: {connections: ${n * 200}}\n`
    : [
      'name: fleet-merge broadcast', 'protocol: socketio', 'target: http://127.0.0.1:3000',
      `load: {users: ${n * config.usersPerAgent}, connectRate: 100000/s, hold: ${intervals}s}`,
      `groups: {size: ${config.group}}`, `broadcast: {timeout: ${broadcastTimeoutMs / 1000}s}`,
      'flow:', '  - connect: {}', '  - join', '  - every:', `      interval: ${config.everyS}s`, '      steps:',
      '        - emit: {event: msg, data: {type: 1, content: "{{stamp}}"}}', '',
    ].join('\n');
  const parsed = parseScenario(yaml, `fleet-merge-${mode}.yaml`);
  return parsed.scenario ?? parsed; // some builds return { scenario, flags }
}

/** The coordinator side of runScenario for `n` agents, minus processes, clocks and the watchdog. */
function coordinator(mode, n, scenario) {
  const agentIds = Array.from({ length: n }, (_, id) => id);
  const merger = new RunMerger(agentIds);
  const handles = [];
  const ledger = mode === 'http' ? new BroadcastLedger(true) : new BroadcastLedger(scenario.broadcast.includeSender, {
    agents: agentIds,
    timeoutMs: scenario.broadcast.timeoutMs,
    intervalMs: scenario.intervalMs,
    saturated: () => saturationLookup(merger.fleetHealth, new Map(handles.map((handle) => [handle.id, (handle.clock?.offsetUs ?? 0) / 1000]))),
  });
  const progress = config.progress === 'none' ? {} : createProgress('lines', sink);
  const closedAt = new Map();
  let lost = 0;
  const emitClosed = (closed) => {
    const now = performance.now();
    for (const interval of closed) {
      closedAt.set(interval.index, now);
      progress.interval?.(interval);
    }
  };
  const events = {
    interval: (message) => {
      progress.agentInterval?.(message);
      const closed = merger.add(message);
      if (message.sessions !== undefined) ledger.add(message.agentId, message.sessions);
      emitClosed(closed);
      ledger.covered(message.agentId, message.endMs);
    },
    heartbeat: (handle) => progress.agentLate?.({ id: handle.id, lateMs: handle.lateMs }),
    ended: (handle) => {
      if (handle.status !== 'ok' && (lost += 1) <= 3) log(`  ${handle.label} ended ${handle.status}: ${handle.reason} (the run's figures are off from here)${lost === 3 ? '; further agents lost are not listed' : ''}`);
      emitClosed(merger.finishAgent(handle.id));
      ledger.finished(handle.id);
      progress.agentEnded?.({ id: handle.id, status: handle.status, reason: handle.reason });
    },
  };
  const sockets = [];
  for (const id of agentIds) {
    const socket = new FakeSocket();
    const link = new WebSocketTransport(socket, parseAgentMessage);
    const handle = new AgentHandle(id, `agent ${id} (sim)`, link, events);
    sockets.push(socket);
    handles.push(handle);
  }
  return { merger, ledger, handles, sockets, closedAt, progress };
}

// ---------------------------------------------------------------- the machine

/** Busy and total jiffies over all cores (/proc/stat; idle and iowait are not busy). */
function cpuJiffies() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    return { busy: total - fields[3] - (fields[4] ?? 0), total };
  } catch {
    return undefined;
  }
}
/** Jiffies per second (USER_HZ): 100 on Linux. */
const hz = 100;

/** Waits (up to IDLE_WAIT s) until the machine's cores are less than 10% busy over a second; returns the last busy share (of all cores). */
async function waitForIdle() {
  let busy = 0;
  for (let waited = 0; waited < Math.max(1, config.idleWait); waited += 1) {
    const before = cpuJiffies();
    await sleep(1000);
    const after = cpuJiffies();
    if (before === undefined || after === undefined) return 0;
    busy = (after.busy - before.busy) / Math.max(1, after.total - before.total);
    if (busy < 0.1) return busy;
  }
  log(`  machine still ${(busy * 100).toFixed(0)}% busy after ${config.idleWait} s (other processes); this run is marked machine-busy`);
  return busy;
}

// ---------------------------------------------------------------- the generator process

/**
 * Generator (a child process, so that building the reports costs the measured
 * process nothing, not even GC): writes every interval's frames to stdout as
 * [u32 index, u32 frames, u32 rows] then per frame [u32 agent, u32 length, bytes]:
 * first each agent's heartbeat, then each agent's interval report, each in a
 * shuffled order.
 */
async function generate(mode, n, intervals, t0Ms) {
  const reportsOf = mode === 'http' ? httpReports(n, httpPool(), t0Ms) : broadcastReports(n, t0Ms);
  const order = Array.from({ length: n }, (_, id) => id);
  const shuffle = random(n);
  const u32 = (value) => {
    const buffer = Buffer.allocUnsafe(4);
    buffer.writeUInt32LE(value);
    return buffer;
  };
  for (let index = 0; index < intervals; index += 1) {
    const { messages, rows } = reportsOf(index);
    const parts = [u32(index), u32(2 * n), u32(rows)];
    const frame = (agent, message) => {
      const bytes = Buffer.from(JSON.stringify(message));
      parts.push(u32(agent), u32(bytes.length), bytes);
    };
    for (let i = order.length - 1; i > 0; i -= 1) {
      const j = Math.floor(shuffle() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const agent of order) frame(agent, { type: 'heartbeat', loadSilentMs: 20 + (agent % 50), lastInterval: index - 1 });
    for (const agent of order) frame(agent, messages[agent]);
    if (!process.stdout.write(Buffer.concat(parts))) await new Promise((resolve) => process.stdout.once('drain', resolve));
  }
  // Trailer: the generator's own CPU, so that "others CPU" can leave it out.
  const usage = process.cpuUsage();
  process.stdout.write(Buffer.concat([u32(0xffffffff), u32(Math.round((usage.user + usage.system) / 1000))]));
  await new Promise((resolve) => process.stdout.end(resolve));
}

/** Reads exact byte counts from a stream; pauses it while more than `highWater` bytes wait. */
class PipeReader {
  #chunks = [];
  #offset = 0;
  #length = 0;
  #wake = undefined;
  #ended = false;
  #stream;
  #highWater = 256 * 1048576;

  constructor(stream) {
    this.#stream = stream;
    stream.on('data', (chunk) => {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
      if (this.#length > this.#highWater) stream.pause();
      this.#wake?.();
    });
    stream.on('end', () => {
      this.#ended = true;
      this.#wake?.();
    });
  }

  async read(bytes) {
    while (this.#length < bytes) {
      if (this.#ended) throw new Error('the generator process ended early (see its error above)');
      await new Promise((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
    this.#length -= bytes;
    if (this.#length < this.#highWater / 2) this.#stream.resume();
    const first = this.#chunks[0];
    if (first.length - this.#offset >= bytes) {
      const out = first.subarray(this.#offset, this.#offset + bytes);
      this.#offset += bytes;
      if (this.#offset === first.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
      return out;
    }
    const out = Buffer.allocUnsafe(bytes);
    let filled = 0;
    while (filled < bytes) {
      const chunk = this.#chunks[0];
      const take = Math.min(bytes - filled, chunk.length - this.#offset);
      chunk.copy(out, filled, this.#offset, this.#offset + take);
      filled += take;
      this.#offset += take;
      if (this.#offset === chunk.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------- one run

const percentile = (values, p) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const mean = (values) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
const cpuMs = (usage) => (usage.user + usage.system) / 1000;

async function runOne(mode, n) {
  const intervals = config.intervals ?? (mode === 'http' ? 60 : 75);
  const scenario = scenarioFor(mode, n, intervals);
  const t0Ms = Math.floor(Date.now() / 1000) * 1000;
  const generator = spawn(process.execPath, [fileURLToPath(import.meta.url), '--generate', mode, String(n), String(intervals), String(t0Ms)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const generatorExit = new Promise((resolve) => generator.once('exit', (code, signal) => resolve(code ?? signal)));
  const reader = new PipeReader(generator.stdout);
  const side = coordinator(mode, n, scenario);
  for (const handle of side.handles) handle.start(t0Ms, intervals * intervalMs);
  gc();
  const jiffiesAtStart = cpuJiffies();
  const ownAtStart = process.cpuUsage();
  const wallAtStart = performance.now();
  const perInterval = [];
  const heapSamples = [];
  let bytesTotal = 0;
  let waitedMs = 0;
  let nextBoundary = performance.now();
  // All-in CPU from the end of the warm-up on: batches, GC between them, the pipe, the transports' ping timers; forced GCs left out.
  let steadyCpu;
  let steadyIntervals = 0;
  let forcedGcCpuMs = 0;
  for (let index = 0; index < intervals; index += 1) {
    if (index === Math.min(config.warmup, intervals - 1)) {
      steadyCpu = process.cpuUsage();
      forcedGcCpuMs = 0;
    }
    if (steadyCpu !== undefined) steadyIntervals += 1;
    // The agents' frames of this interval, as the bytes ws 'message' events carry.
    const waitFrom = performance.now();
    const header = await reader.read(12);
    if (header.readUInt32LE(0) !== index) throw new Error(`generator out of step: interval ${header.readUInt32LE(0)}, expected ${index}`);
    const count = header.readUInt32LE(4);
    const rows = header.readUInt32LE(8);
    const frames = [];
    let bytes = 0;
    for (let i = 0; i < count; i += 1) {
      const head = await reader.read(8);
      const frame = await reader.read(head.readUInt32LE(4));
      frames.push([head.readUInt32LE(0), frame]);
      if (i >= count / 2) bytes += frame.length;
    }
    bytesTotal += bytes;
    waitedMs += performance.now() - waitFrom;
    if (config.pace === 'real') {
      nextBoundary += intervalMs;
      await sleep(Math.max(0, nextBoundary - performance.now()));
    }

    // Measured: every agent's heartbeat and interval report arriving at once, handled by the coordinator's code.
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    let lastArrival = wall0;
    for (const [agent, frame] of frames) {
      lastArrival = performance.now();
      side.sockets[agent].emit('message', frame, false);
    }
    const wall1 = performance.now();
    const batchCpuMs = cpuMs(process.cpuUsage(cpu0));
    const mergedAt = side.closedAt.get(index);
    if (mergedAt === undefined) {
      const gone = side.handles.filter((handle) => handle.ended).map((handle) => `${handle.label}: ${handle.status} ${handle.reason ?? ''}`);
      throw new Error(`interval ${index} was not merged after all ${n} reports (${gone.length} agents ended: ${gone.slice(0, 3).join('; ')}): the harness or the merge is broken`);
    }
    side.closedAt.delete(index);
    const memory = process.memoryUsage();
    perInterval.push({
      index, rows, bytes, wallMs: wall1 - wall0, cpuMs: batchCpuMs,
      lagMs: mergedAt - wall0, closeMs: mergedAt - lastArrival, rssMb: mb(memory.rss), heapMb: mb(memory.heapUsed + memory.arrayBuffers), afterGc: index % 10 === 0 && index > 0,
    });
    if (index % 10 === 9 || index === intervals - 1) {
      const gcCpu = process.cpuUsage();
      gc();
      forcedGcCpuMs += cpuMs(process.cpuUsage(gcCpu));
      // Typed-array buffers too: the broadcast ledger and the merged histograms keep their counts there.
      const afterGc = process.memoryUsage();
      heapSamples.push({ index, heapMb: mb(afterGc.heapUsed + afterGc.arrayBuffers), rssMb: mb(afterGc.rss) });
    }
    // The agents answered the transport's pings meanwhile. Subtleness: WebSocketTransport judges
    // a link dead in its ping timer, which runs before the pongs that waited in the socket are
    // read, so any stall of this loop over 5 s (a long batch, the forced GC above on a busy
    // machine) drops every agent at once. That is a finding about the coordinator, not what
    // this bench measures: the pongs are handed over here, after each batch.
    for (const socket of side.sockets) socket.emit('pong');
    // Let timers run (the transports ping every agent each second, as a real coordinator does).
    if (config.pace === 'burst') await new Promise((resolve) => setImmediate(resolve));
  }
  const allInCpuMs = (cpuMs(process.cpuUsage(steadyCpu)) - forcedGcCpuMs) / steadyIntervals;
  const trailer = await reader.read(8);
  const generatorCpu = trailer.readUInt32LE(0) === 0xffffffff ? trailer.readUInt32LE(4) : 0;
  const generatorCode = await generatorExit;
  if (generatorCode !== 0) throw new Error(`the generator process failed (${generatorCode})`);

  // CPU used by other processes over the run, as a share of one core (this process's own and the generator's left out).
  const jiffiesAtEnd = cpuJiffies();
  const own = cpuMs(process.cpuUsage(ownAtStart));
  const foreign = jiffiesAtStart === undefined || jiffiesAtEnd === undefined ? NaN
    : Math.max(0, ((jiffiesAtEnd.busy - jiffiesAtStart.busy) * (1000 / hz) - own - generatorCpu) / (performance.now() - wallAtStart));
  if (config.detail) {
    for (const entry of perInterval) log(`    ${mode} N=${n} interval ${entry.index}: rows ${entry.rows} cpu ${entry.cpuMs.toFixed(1)} ms wall ${entry.wallMs.toFixed(1)} ms lag ${entry.lagMs.toFixed(1)} close ${entry.closeMs.toFixed(2)} heap ${entry.heapMb.toFixed(1)} rss ${entry.rssMb.toFixed(0)}${entry.afterGc ? ' (after a forced GC)' : ''}`);
  }
  // The run's end: every agent says done, the merger closes, and the result is built and serialized as spear run does (src/report/result-file.ts).
  side.sockets.forEach((socket, agentId) => socket.emit('message', Buffer.from(JSON.stringify({ type: 'done', agentId })), false));
  let resultFigures;
  if (config.result) {
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const outcomes = side.handles.map((handle) => ({ id: handle.id, pid: handle.pid, status: handle.status, reason: handle.reason, connections: handle.connections, clock: handle.clock, lateMsMax: handle.lateMsMax }));
    const result = buildResult(scenario, side.merger, outcomes, false, side.ledger);
    const text = `${JSON.stringify(result, null, 2)}\n`;
    // The part that grows with the run: the timeline (one entry per interval, each with its agents' health rows).
    const timelineChars = JSON.stringify(result.timeline, null, 2).length;
    resultFigures = { wallMs: performance.now() - wall0, cpuMs: cpuMs(process.cpuUsage(cpu0)), chars: text.length, timelineChars, broadcast: result.summary.broadcast };
  }
  for (const handle of side.handles) void handle.release();
  const stats = mode === 'broadcast' ? side.ledger.stats() : undefined;
  // What the merger keeps of the agents' health: its bounded tracks' spans (one per calm agent) and the timeline's rows.
  const fleet = side.merger.fleetHealth;
  const health = {
    spans: fleet.agents().reduce((sum, id) => sum + fleet.get(id).spans.length, 0),
    rows: side.merger.timeline().reduce((sum, entry) => sum + entry.health.length, 0),
  };
  return { mode, n, intervals, perInterval, heapSamples, waitedMs, bytesTotal, resultFigures, stats, health, foreign, allInCpuMs };
}

// ---------------------------------------------------------------- figures

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = mean(points.map(([x]) => x));
  const my = mean(points.map(([, y]) => y));
  const sxx = points.reduce((sum, [x]) => sum + (x - mx) ** 2, 0);
  return sxx === 0 ? NaN : points.reduce((sum, [x, y]) => sum + (x - mx) * (y - my), 0) / sxx;
}

function summarize(run) {
  const measured = run.perInterval.filter((entry) => entry.index >= config.warmup);
  const shares = measured.map((entry) => entry.cpuMs / intervalMs);
  // Memory: the heap after a full GC, sampled every 10 intervals, over the steady part of the run
  // (the ledger settles a broadcast ~57 s after its send: a broadcast run's heap grows until then).
  const steadyFrom = run.mode === 'broadcast' ? 60 : 10;
  const samples = run.heapSamples.filter((sample) => sample.index + 1 >= steadyFrom);
  const mbPerInterval = slope(samples.map((sample) => [sample.index, sample.heapMb]));
  const mbPerHour = mbPerInterval * (3600_000 / intervalMs);
  const figures = run.resultFigures;
  return {
    cpuMean: run.allInCpuMs / intervalMs, batchMean: mean(shares), cpuP50: percentile(shares, 50), cpuP95: percentile(shares, 95), cpuMax: Math.max(...shares),
    wallP50: percentile(measured.map((entry) => entry.wallMs), 50),
    lagP50: percentile(measured.map((entry) => entry.lagMs), 50), lagMax: Math.max(...measured.map((entry) => entry.lagMs)),
    closeP50: percentile(measured.map((entry) => entry.closeMs), 50),
    first: run.perInterval[0],
    kbPerReport: run.bytesTotal / run.perInterval.length / run.n / 1024,
    rowsPerS: mean(measured.map((entry) => entry.rows)),
    heapFirst: samples[0], heapLast: samples.at(-1), mbPerHour, flat: Number.isFinite(mbPerHour) && mbPerHour <= config.flatMbPerHour,
    rssMax: Math.max(...run.perInterval.map((entry) => entry.rssMb)),
    resultMb: run.resultFigures === undefined ? NaN : mb(run.resultFigures.chars),
    // JSON.stringify of the result fails past V8's longest string: how long a run reaches it.
    resultLimitH: figures === undefined ? NaN
      : (constants.MAX_STRING_LENGTH - (figures.chars - figures.timelineChars)) / (figures.timelineChars / run.intervals) / (3600_000 / intervalMs),
  };
}

const fixed = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const pct = (value) => (Number.isFinite(value) ? `${(value * 100).toFixed(1)}%` : '-');

function table(runs) {
  const rows = [[
    'mode', 'agents', 'KB/report', 'rows/s', 'CPU', 'batch CPU', 'p95', 'max', 'wall p50 ms', 'lag p50 ms', 'lag max ms', 'close ms',
    'ivl 0 CPU', 'heap MB (GC)', 'heap MB/h', 'RSS max MB', 'result MB', 'result limit h', 'buildResult ms', 'others CPU',
  ]];
  for (const run of runs) {
    const s = run.summary;
    rows.push([
      run.mode, String(run.n), fixed(s.kbPerReport), run.mode === 'http' ? '-' : fixed(s.rowsPerS, 0),
      pct(s.cpuMean), pct(s.batchMean), pct(s.cpuP95), pct(s.cpuMax), fixed(s.wallP50), fixed(s.lagP50), fixed(s.lagMax), fixed(s.closeP50, 2),
      pct(s.first.cpuMs / intervalMs),
      s.heapFirst === undefined ? '-' : `${fixed(s.heapFirst.heapMb)}→${fixed(s.heapLast.heapMb)}`,
      Number.isFinite(s.mbPerHour) ? `${fixed(s.mbPerHour, 0)} ${s.flat ? 'flat' : 'GROWS'}` : 'n/a (short run)', fixed(s.rssMax, 0),
      fixed(s.resultMb), fixed(s.resultLimitH), run.resultFigures === undefined ? '-' : fixed(run.resultFigures.wallMs, 0),
      `${pct(run.foreign)}${run.busyBefore >= 0.1 ? ' busy' : ''}`,
    ]);
  }
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => (column < 1 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ')).join('\n');
}

// ---------------------------------------------------------------- main

if (process.argv[2] === '--generate') {
  const [, , , mode, n, intervals, t0Ms] = process.argv;
  await generate(mode, Number(n), Number(intervals), Number(t0Ms));
  process.exit(0);
}

const wallStart = performance.now();
log(`fleet-merge: node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg().map((value) => value.toFixed(2)).join(' ')}`);
log(`  AGENTS="${config.agents.join(' ')}" MODE="${config.modes.join(' ')}" PACE=${config.pace} INTERVALS=${config.intervals ?? 'auto (60 http, 75 broadcast)'} REQS=${config.reqs}` +
  ` USERS_PER_AGENT=${config.usersPerAgent} GROUP=${config.group} EVERY=${config.everyS}s PROGRESS=${config.progress}`);
const runs = [];
for (const mode of config.modes) {
  for (const n of config.agents) {
    const busyBefore = await waitForIdle();
    const loadBefore = os.loadavg()[0];
    const started = performance.now();
    const run = await runOne(mode, n);
    run.summary = summarize(run);
    run.loadBefore = loadBefore;
    run.busyBefore = busyBefore;
    run.loadAfter = os.loadavg()[0];
    runs.push(run);
    const s = run.summary;
    const b = run.resultFigures?.broadcast;
    log(`  ${mode} N=${n}: ${run.intervals} intervals in ${((performance.now() - started) / 1000).toFixed(1)} s (${(run.waitedMs / 1000).toFixed(1)} s waiting for the generator);` +
      ` CPU mean ${pct(s.cpuMean)} of a core, lag p50 ${fixed(s.lagP50)} ms; heap after GC ${run.heapSamples.map((h) => `${h.index + 1}:${h.heapMb.toFixed(1)}`).join(' ')} MB;` +
      ` health kept: ${run.health.spans} spans, ${run.health.rows} timeline rows; load ${run.loadBefore.toFixed(2)}>${run.loadAfter.toFixed(2)}` +
      (run.stats === undefined ? '' : `; ledger open ${run.stats.open}, settled ${run.stats.settled}, shortfalls ${run.stats.shortfalls}, membership ${run.stats.membershipChanges}`) +
      (b === undefined ? '' : `; summary.broadcast sent ${b.sent} expected ${b.expected} delivered ${b.delivered} late ${b.late} lost ${b.lost} unverified ${b.unverified}`));
  }
}

console.log('');
console.log(`Coordinator merge at fleet size (1 s intervals, PACE=${config.pace}, intervals ${config.warmup}+; CPU in shares of one core per second of run; lag = last report arrived -> merged interval available)`);
console.log(table(runs));
console.log('');
console.log('CPU: all the coordinator process used per interval (the batches, GC between them, the pipe standing in for sockets, ping timers; the bench\'s forced GCs left out).');
console.log('batch CPU (mean, p95, max): the CPU of the batches alone, from the first report handed over to the last one merged.');
console.log('KB/report: one agent\'s interval report (JSON). rows/s: broadcast receipt rows reaching the coordinator. close ms: from the last report handed over to the merged interval.');
console.log('ivl 0 CPU: the first interval (JIT warm-up; broadcast: every user\'s join). heap MB (GC): JS heap plus typed-array buffers after a full GC, at the start of the steady part (interval 10; broadcast: 60,');
console.log(`after the first broadcasts settle) and at the end; heap MB/h: its least-squares slope over that part, per hour of 1 s intervals (flat: at most FLAT_MB_H = ${config.flatMbPerHour}).`);
console.log('result MB: the result file as spear run writes it, at the end of this run; result limit h: how long a run of this fleet can be before that text passes V8\'s longest string.');
console.log('others CPU: what other processes used over the run, share of one core (busy: the machine was not idle at the start, see IDLE_WAIT); wall and lag suffer from it, CPU less.');
console.log('');
const goal = 0.25;
for (const mode of config.modes) {
  const measured = runs.filter((run) => run.mode === mode).sort((a, b) => a.n - b.n);
  const at500 = measured.find((run) => run.n === 500);
  // Ceiling: a least-squares line through CPU share against agents (one point: through the origin).
  const perAgent = measured.length > 1 ? slope(measured.map((run) => [run.n, run.summary.cpuMean])) : measured[0].summary.cpuMean / measured[0].n;
  const base = measured.length > 1 ? mean(measured.map((run) => run.summary.cpuMean)) - perAgent * mean(measured.map((run) => run.n)) : 0;
  const agentsAt = (share) => Math.floor((share - base) / perAgent);
  const verdict = at500 === undefined
    ? `no 500-agent run (AGENTS="${config.agents.join(' ')}")`
    : `${at500.summary.cpuMean < goal && at500.summary.flat ? 'MET' : 'NOT MET'}: 500 agents merged in ${pct(at500.summary.cpuMean)} of a core (goal < 25%), heap ${at500.summary.flat ? 'flat' : Number.isFinite(at500.summary.mbPerHour) ? `grows ${fixed(at500.summary.mbPerHour, 0)} MB per hour` : 'not judged (too few intervals)'}` +
      `; the result file reaches V8's string limit after ${fixed(at500.summary.resultLimitH)} h`;
  console.log(`verdict ${mode}: ${verdict}`);
  console.log(`  ${(perAgent * 100).toFixed(3)}% of a core per agent (line through N = ${measured.map((run) => run.n).join(', ')}): 25% of a core at ~${agentsAt(goal)} agents, a whole core at ~${agentsAt(1)}` +
    (mode === 'broadcast' ? ` (USERS_PER_AGENT=${config.usersPerAgent}, GROUP=${config.group}, EVERY=${config.everyS}s: ${fixed(measured.at(-1).summary.rowsPerS / measured.at(-1).n, 0)} receipt rows per agent per second)` : ''));
}
log(`fleet-merge: done in ${((performance.now() - wallStart) / 1000).toFixed(0)} s, load average ${os.loadavg().map((value) => value.toFixed(2)).join(' ')}`);
