#!/usr/bin/env node
// bench/ledger-soak.mjs: the coordinator's memory over a long broadcast run
// (hardening item 16: the broadcast ledger kept one entry per broadcast for the
// whole run). Two sections, each can be skipped with SECTIONS:
//
//   synthetic  The ledger alone, in this process: SYN_HOURS of fake interval
//              reports (1 s) from SYN_AGENTS agents holding SYN_USERS users in
//              groups of SYN_GROUP (user i on agent i mod agents, as spear plans),
//              each user broadcasting every SYN_EVERY seconds; copies delivered
//              3 ms after the send, one in 10,000 never, one row in 500 with a
//              copy 60 s late (after its broadcast was settled), one user a second
//              leaving and rejoining 5 s later, agent 1 saturated one interval in
//              600. Prints the memory after a full GC (JS heap plus typed-array
//              buffers: the ledger keeps its open broadcasts in typed arrays, which
//              heapUsed does not count) and the ledger's stats() every SYN_SAMPLE_S
//              simulated seconds, the final counts (every expected copy accounted
//              for once), and the CPU the ledger's own calls (add, covered) took
//              once settling runs (from SYN_STEADY_S on): share of a core per
//              simulated second and microseconds per receipt row. SYN_SETTLE=0
//              feeds a ledger that never settles
//              (the old behaviour) for SYN_OLD_MINUTES, to compare. The agent
//              health list (what the merger keeps, one entry per agent per
//              interval) is part of the harness and grows with the run; its share
//              is measured on its own and printed.
//   soak       The whole of spear against bench/ws-capacity/mini-sio-server.mjs:
//              SOAK_USERS Socket.IO users (case B: auth, join, then every SOAK_EVERY
//              seconds a stamped `msg` type 1 to the group of SOAK_GROUP) held for
//              SOAK_S seconds on SOAK_AGENTS local agents; the coordinator's and each
//              agent's RSS printed every SAMPLE_S seconds, then judged flat when, after
//              WARMUP_S seconds (the ramp, the first broadcast windows and the late
//              horizon filling up), every sample stays within FLAT_PCT % of the
//              first one, with the least-squares slope (MB per minute) beside it.
//              SPEAR_BIN runs another build of spear (its bin/spear.js), e.g. an
//              older commit, for a before/after comparison.
//
// How to run (from the repo root, after npm run build):
//   node bench/ledger-soak.mjs                                   # both: the issue's 10 min soak, 2 h synthetic
//   SECTIONS=soak SOAK_S=180 node bench/ledger-soak.mjs          # a 3-minute soak
//   SECTIONS=synthetic SYN_HOURS=0.5 node bench/ledger-soak.mjs  # a quicker synthetic
//   SECTIONS=synthetic SYN_AGENTS=500 SYN_USERS=50000 SYN_HOURS=0.05 SYN_SAMPLE_S=30 SYN_OLD_MINUTES=0 node bench/ledger-soak.mjs
//                                                                # fleet-merge's case B at 500 agents, the ledger alone
//
// Env knobs (defaults in brackets)
//   SECTIONS ["synthetic soak"]
//   SYN_USERS [27000], SYN_GROUP [100], SYN_AGENTS [2], SYN_EVERY [20] s, SYN_HOURS [2],
//   SYN_TIMEOUT [5000] ms (broadcast.timeout), SYN_SETTLE [1], SYN_OLD_MINUTES [10],
//   SYN_SAMPLE_S [600] simulated s between samples, SYN_STEADY_S [62]: CPU counted from then
//   (a broadcast settles timeout + late horizon = 57 s after its send)
//   SOAK_USERS [5000], SOAK_GROUP [100], SOAK_AGENTS [2], SOAK_EVERY [10] s, SOAK_S [600],
//   SOAK_RATE [1000] connects/s, SAMPLE_S [30], WARMUP_S [120], FLAT_PCT [10],
//   SERVER_CPU [0], CLIENT_CPU [1], SPEAR_BIN [bin/spear.js of this repo], KEEP_RAW [0]
//
// Load only goes to 127.0.0.1. Every process the harness starts is its own
// process group, killed at exit; the temp dir is removed unless KEEP_RAW=1.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const env = (name, fallback) => process.env[name] ?? fallback;
const num = (name, fallback) => {
  const value = Number(env(name, String(fallback)));
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0`);
  return value;
};
const config = {
  sections: env('SECTIONS', 'synthetic soak').split(/\s+/).filter(Boolean),
  synUsers: num('SYN_USERS', 27000),
  synGroup: num('SYN_GROUP', 100),
  synAgents: num('SYN_AGENTS', 2),
  synEveryS: num('SYN_EVERY', 20),
  synHours: num('SYN_HOURS', 2),
  synTimeoutMs: num('SYN_TIMEOUT', 5000),
  synSettle: env('SYN_SETTLE', '1') !== '0',
  synOldMinutes: num('SYN_OLD_MINUTES', 10),
  synSampleS: Math.max(1, num('SYN_SAMPLE_S', 600)),
  synSteadyS: num('SYN_STEADY_S', 62),
  soakUsers: num('SOAK_USERS', 5000),
  soakGroup: num('SOAK_GROUP', 100),
  soakAgents: num('SOAK_AGENTS', 2),
  soakEveryS: num('SOAK_EVERY', 10),
  soakS: num('SOAK_S', 600),
  soakRate: num('SOAK_RATE', 1000),
  sampleS: num('SAMPLE_S', 30),
  warmupS: num('WARMUP_S', 120),
  flatPct: num('FLAT_PCT', 10),
  serverCpu: env('SERVER_CPU', '0'),
  clientCpu: env('CLIENT_CPU', '1'),
  keepRaw: env('KEEP_RAW', '0') === '1',
};
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const SPEAR_BIN = env('SPEAR_BIN', join(REPO, 'bin', 'spear.js'));
const WORK = mkdtempSync(join(env('TMPDIR', tmpdir()), 'spear-ledger-soak.'));
const log = (...parts) => process.stderr.write(`${parts.join(' ')}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes) => (bytes / 1048576).toFixed(1);

// ---------------------------------------------------------------- processes and cleanup

const children = new Set();

function start(command, args, cpu) {
  const child = spawn('taskset', ['-c', cpu, command, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    children.delete(child);
    resolve(code ?? (signal === null ? 0 : 128));
  }));
  return child;
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

process.on('exit', () => {
  for (const child of children) killGroup(child, 'SIGKILL');
  if (config.keepRaw) log(`raw outputs kept in ${WORK}`);
  else rmSync(WORK, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

function rssKb(pid) {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

function agentPids(coordinatorPid) {
  try {
    return execFileSync('pgrep', ['-P', String(coordinatorPid), '-f', 'agent-main'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number).sort((a, b) => a - b);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------- synthetic: the ledger alone

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

const calm = { loopDelayMs: { p50: 0, p99: 2, max: 5 }, elu: 0.3, cpu: 0.3, rssMb: 100, heapMb: 40, connecting: 0, connectsStarted: 0, connectsBehind: 0 };
const busy = { ...calm, loopDelayMs: { p50: 40, p99: 400, max: 900 }, cpu: 1 };

/** JS heap plus typed-array buffers (off the heap, where the ledger's records live) after a full GC. */
function heapAfterGc(gc) {
  gc();
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/**
 * Feeds `minutes` of interval reports to a ledger (settling or not) and
 * returns { samples, summary, health, cpu }. `onSample(sample)` every SYN_SAMPLE_S
 * simulated seconds; cpu: the ledger's own calls from SYN_STEADY_S on (µs, intervals, receipt rows).
 */
async function feedLedger({ BroadcastLedger, saturationLookup, ReceiptRows }, minutes, settle, gc, onSample) {
  const { synUsers: users, synGroup: groupSize, synAgents: agentCount, synEveryS: everyS, synTimeoutMs: timeoutMs } = config;
  const T0 = 1_800_000_000_000;
  const us = (ms) => (T0 + ms) * 1000;
  const rand = random(27);
  const agents = Array.from({ length: agentCount }, (_, agent) => agent);
  const health = new Map(agents.map((agent) => [agent, []]));
  const ledger = settle
    ? new BroadcastLedger(false, { agents, timeoutMs, intervalMs: 1000, saturated: () => saturationLookup(health) })
    : new BroadcastLedger(false);
  const groups = Math.ceil(users / groupSize);
  // Joined members per group and agent, and each user's state.
  const joined = Array.from({ length: groups }, () => new Int32Array(agentCount));
  const isJoined = new Uint8Array(users);
  const phaseMs = Array.from({ length: users }, (_, user) => (user * 7919) % (everyS * 1000));
  const bySecond = Array.from({ length: everyS }, () => []);
  for (let user = 0; user < users; user += 1) bySecond[Math.floor(phaseMs[user] / 1000)].push(user);
  const seqs = new Array(agentCount).fill(0);
  const receipts = new Map(); // interval → per agent rows
  const rejoins = new Map(); // interval → users
  const rows = (interval) => {
    let list = receipts.get(interval);
    if (list === undefined) receipts.set(interval, (list = agents.map(() => [])));
    return list;
  };
  const intervals = Math.round(minutes * 60);
  const heapAtStart = heapAfterGc(gc);
  const samples = [];
  const cpu = { us: 0, intervals: 0, rows: 0 };
  for (let interval = 0; interval < intervals; interval += 1) {
    const membership = agents.map(() => []);
    const sent = agents.map(() => []);
    const startMs = interval * 1000;
    if (interval === 0) {
      for (let user = 0; user < users; user += 1) {
        isJoined[user] = 1;
        joined[Math.floor(user / groupSize)][user % agentCount] += 1;
        membership[user % agentCount].push([Math.floor(user / groupSize), us(100), 1]);
      }
    } else {
      const leaver = Math.floor(rand() * users);
      const change = (user, delta) => {
        isJoined[user] = delta > 0 ? 1 : 0;
        joined[Math.floor(user / groupSize)][user % agentCount] += delta;
        membership[user % agentCount].push([Math.floor(user / groupSize), us(startMs), delta]);
      };
      for (const user of rejoins.get(interval) ?? []) change(user, 1);
      rejoins.delete(interval);
      if (isJoined[leaver] === 1) {
        change(leaver, -1);
        const at = interval + 5;
        rejoins.set(at, [...(rejoins.get(at) ?? []), leaver]);
      }
    }
    for (const sender of bySecond[interval % everyS]) {
      if (interval < everyS && interval * 1000 + (phaseMs[sender] % 1000) < 200) continue;
      if (isJoined[sender] === 0) continue;
      const agent = sender % agentCount;
      const group = Math.floor(sender / groupSize);
      const sentMs = startMs + (phaseMs[sender] % 1000);
      const seq = seqs[agent]++;
      sent[agent].push([group, seq, sender, us(sentMs)]);
      const atMs = sentMs + 3;
      for (const receiver of agents) {
        let copies = joined[group][receiver] - (receiver === agent ? 1 : 0);
        if (copies <= 0) continue;
        if (rand() < copies * 1e-4) copies -= 1; // lost
        if (copies > 0 && rand() < 0.002) {
          copies -= 1;
          const lateMs = sentMs + 60_000;
          rows(Math.floor(lateMs / 1000))[receiver].push([agent, seq, 0, 1, 0, 0, 0, 0, us(lateMs), us(lateMs), group]);
        }
        if (copies > 0) rows(Math.floor(atMs / 1000))[receiver].push([agent, seq, copies, 0, 0, 0, 0, 0, us(atMs), us(atMs + 2), group]);
      }
    }
    const due = receipts.get(interval) ?? agents.map(() => []);
    receipts.delete(interval);
    const steady = interval >= config.synSteadyS;
    for (const agent of agents) {
      const report = { counters: undefined, histograms: undefined, sent: sent[agent], receipts: ReceiptRows.of(due[agent]), membership: membership[agent] };
      const saturated = agent === 1 && interval % 600 === 300;
      health.get(agent).push({ agent, index: interval, startMs: T0 + startMs, endMs: T0 + startMs + 1000, ...(saturated ? busy : calm) });
      const cpu0 = steady ? process.cpuUsage() : undefined;
      ledger.add(agent, report);
      ledger.covered(agent, T0 + startMs + 1000);
      if (cpu0 !== undefined) {
        const used = process.cpuUsage(cpu0);
        cpu.us += used.user + used.system;
        cpu.rows += report.receipts.count;
      }
    }
    if (steady) cpu.intervals += 1;
    if ((interval + 1) % config.synSampleS === 0) {
      const heap = heapAfterGc(gc) - heapAtStart;
      samples.push({ minute: Number(((interval + 1) / 60).toFixed(2)), heap, stats: ledger.stats() });
      onSample(samples.at(-1));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  for (const agent of agents) ledger.finished(agent);
  const summary = ledger.summarize({ saturated: saturationLookup(health), timeoutMs });
  return { samples, summary, health, heapAtStart, cpu };
}

/** Heap held by a health list like the merger's (`entries` per agent): measured by building one. */
function healthHeap(entriesPerAgent, gc) {
  const before = heapAfterGc(gc);
  const health = new Map();
  for (let agent = 0; agent < config.synAgents; agent += 1) {
    const list = [];
    for (let index = 0; index < entriesPerAgent; index += 1) list.push({ agent, index, startMs: index * 1000, endMs: index * 1000 + 1000, ...calm });
    health.set(agent, list);
  }
  const after = heapAfterGc(gc);
  return health.size > 0 ? after - before : 0;
}

async function sectionSynthetic() {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  const modules = {
    ...(await import(pathToFileURL(join(REPO, 'dist', 'coordinator', 'broadcast-ledger.js')).href)),
    ...(await import(pathToFileURL(join(REPO, 'dist', 'metrics', 'generator-verdict.js')).href)),
    ...(await import(pathToFileURL(join(REPO, 'dist', 'wire', 'receipt-rows.js')).href)),
  };
  const perSecond = config.synUsers / config.synEveryS;
  console.log(`\nsynthetic: ${config.synUsers} users in groups of ${config.synGroup} on ${config.synAgents} agents, each broadcasting every ${config.synEveryS} s (${perSecond} broadcasts/s, ~${Math.round(perSecond * (config.synGroup - 1))} copies/s), broadcast.timeout ${config.synTimeoutMs} ms`);
  console.log('  memory growth (JS heap + typed-array buffers) is after a full GC, from before the ledger was made; it includes the agent health list (the merger\'s), measured apart below');
  const runs = [];
  const label = (minutes) => `${Number(minutes.toFixed(1))} simulated minutes`;
  if (config.synSettle) runs.push({ label: 'settling ledger', minutes: config.synHours * 60, settle: true });
  if (config.synOldMinutes > 0) runs.push({ label: 'ledger that keeps every broadcast (before item 16)', minutes: config.synOldMinutes, settle: false });
  for (const run of runs) {
    console.log(`  ${run.label}, ${label(run.minutes)}:`);
    console.log('    minute   mem +MB    open  shortfalls  membership  settled   wall s');
    const started = Date.now();
    const { samples, summary, cpu } = await feedLedger(modules, run.minutes, run.settle, gc, (sample) => {
      const s = sample.stats;
      console.log(`    ${String(sample.minute).padStart(6)}  ${mb(sample.heap).padStart(8)}  ${String(s.open).padStart(7)}  ${String(s.shortfalls).padStart(10)}  ${String(s.membershipChanges).padStart(10)}  ${String(s.settled).padStart(8)}  ${((Date.now() - started) / 1000).toFixed(0).padStart(7)}`);
    });
    const accounted = summary.delivered + summary.late + summary.lost + summary.unverified;
    const health = healthHeap(run.minutes * 60, gc);
    const first = samples[0];
    const last = samples.at(-1);
    console.log(`    counts: sent ${summary.sent} expected ${summary.expected} delivered ${summary.delivered} late ${summary.late} lost ${summary.lost} unverified ${summary.unverified} (delivered+late+lost+unverified ${accounted === summary.expected ? '== expected' : `${accounted} != expected`}), first/last member p99 ${summary.firstMemberMs.p99}/${summary.lastMemberMs.p99} ms`);
    console.log(`    memory: +${mb(first.heap)} MB at minute ${first.minute}, +${mb(last.heap)} MB at minute ${last.minute}; of which the agent health list (${Math.round(run.minutes * 60)} intervals × ${config.synAgents} agents) ${mb(health)} MB; ledger alone +${mb(first.heap - healthHeap(first.minute * 60, gc))} → +${mb(last.heap - health)} MB`);
    if (cpu.intervals > 0) console.log(`    ledger CPU (add + covered, simulated seconds ${config.synSteadyS}+): ${(cpu.us / cpu.intervals / 1e4).toFixed(1)}% of a core per simulated second, ${(cpu.us / Math.max(1, cpu.rows)).toFixed(2)} µs per receipt row (${Math.round(cpu.rows / cpu.intervals)} rows/s)`);
    if (!run.settle) console.log(`    ${mb((last.heap - health) / summary.sent * 1e6)} MB per million broadcasts kept: ${config.synHours} h would hold ~${mb(((last.heap - health) / summary.sent) * perSecond * config.synHours * 3600)} MB`);
  }
}

// ---------------------------------------------------------------- soak: the whole of spear

function soakScenario(url) {
  const rampS = Math.ceil(config.soakUsers / config.soakRate);
  return `name: ledger soak
protocol: socketio
target: ${url}
timeouts: { connect: 30s }
load:
  users: ${config.soakUsers}
  connectRate: ${config.soakRate}/s
  hold: ${config.soakS}s
groups:
  size: ${config.soakGroup}
broadcast:
  timeout: 5s
flow:
  - connect: {}
  - emit:
      event: auth
      data: { id: "{{user}}", groupId: "{{group}}", token: "t-{{user}}" }
  - expect:
      event: auth_result
      match: { success: true }
      timeout: 20s
  - join
  - sleep: { duration: ${rampS + 2}s }
  - every:
      interval: ${config.soakEveryS}s
      steps:
        - emit:
            event: msg
            data: { type: 1, groupId: "{{group}}", content: "{{stamp}}" }
        - expect:
            event: msg_result
            match: { success: true }
            timeout: 20s
`;
}

/** Least-squares slope of y over x. */
function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i += 1) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function sectionSoak() {
  const server = start('node', [join(REPO, 'bench', 'ws-capacity', 'mini-sio-server.mjs'), '--port', '0'], config.serverCpu);
  server.stderr.resume();
  const url = await new Promise((resolve, reject) => {
    createInterface({ input: server.stdout }).on('line', (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line);
      if (match !== null) resolve(match[1]);
    });
    server.exited.then((code) => reject(new Error(`mini server exited ${code}`)));
  });
  writeFileSync(join(WORK, 'soak.yaml'), soakScenario(url));
  const out = join(WORK, 'soak.json');
  console.log(`\nsoak: ${config.soakUsers} Socket.IO users, groups of ${config.soakGroup}, a broadcast per user every ${config.soakEveryS} s (${config.soakUsers / config.soakEveryS}/s), held ${config.soakS} s on ${config.soakAgents} agents; spear ${SPEAR_BIN}`);
  const spear = start('node', [SPEAR_BIN, 'run', join(WORK, 'soak.yaml'), '--agents', String(config.soakAgents), '--progress', 'lines', '--out', out], config.clientCpu);
  let progress = '';
  createInterface({ input: spear.stderr }).on('line', (line) => {
    if (line.includes('connected')) progress = line.trim();
  });
  spear.stdout.resume();
  const startedAt = Date.now();
  const samples = [];
  console.log('      t s  coordinator MB  agents MB         progress');
  let ended = false;
  spear.exited.then(() => {
    ended = true;
  });
  while (!ended) {
    await Promise.race([sleep(config.sampleS * 1000), spear.exited]);
    if (ended) break;
    const t = Math.round((Date.now() - startedAt) / 1000);
    const agents = agentPids(spear.pid).map((pid) => rssKb(pid) / 1024);
    const sample = { t, coordinator: rssKb(spear.pid) / 1024, agents };
    samples.push(sample);
    console.log(`  ${String(t).padStart(7)}  ${sample.coordinator.toFixed(1).padStart(14)}  ${agents.map((value) => value.toFixed(1)).join(' / ').padEnd(16)}  ${progress.slice(0, 90)}`);
  }
  const code = await spear.exited;
  killGroup(server, 'SIGTERM');
  if (!existsSync(out)) throw new Error(`spear exited ${code} without a result`);
  const result = JSON.parse(readFileSync(out, 'utf8'));
  const b = result.summary.broadcast ?? {};
  console.log(`  spear exit ${code}; broadcast: sent ${b.sent} expected ${b.expected} delivered ${b.delivered} late ${b.late} lost ${b.lost} unverified ${b.unverified} unknownSender ${b.unknownSender}; generator ${result.summary.generator?.saturated ? 'SATURATED' : 'ok'}; connections peak ${result.summary.connections?.peak}, disconnects ${result.summary.connections?.disconnects}`);
  const steady = samples.filter((sample) => sample.t >= config.warmupS);
  if (steady.length < 2) {
    console.log(`  too few samples after WARMUP_S=${config.warmupS} s to judge`);
    return;
  }
  const judge = (label, values) => {
    const base = values[0];
    const worst = Math.max(...values.map((value) => Math.abs(value - base) / base));
    const perMin = slope(steady.map((sample) => sample.t / 60), values);
    console.log(`  ${label.padEnd(12)} from ${base.toFixed(1)} MB at ${steady[0].t} s: largest move ${(worst * 100).toFixed(1)}%, slope ${perMin >= 0 ? '+' : ''}${perMin.toFixed(2)} MB/min: ${worst <= config.flatPct / 100 ? 'flat' : 'NOT FLAT'} (within ${config.flatPct}%)`);
  };
  judge('coordinator', steady.map((sample) => sample.coordinator));
  const agentCount = Math.min(...steady.map((sample) => sample.agents.length));
  for (let agent = 0; agent < agentCount; agent += 1) judge(`agent ${agent}`, steady.map((sample) => sample.agents[agent]));
}

// ---------------------------------------------------------------- main

async function main() {
  const unknown = config.sections.filter((section) => !['synthetic', 'soak'].includes(section));
  if (unknown.length > 0) throw new Error(`unknown SECTIONS ${unknown.join(' ')} (synthetic soak)`);
  if (!existsSync(join(REPO, 'dist', 'coordinator', 'broadcast-ledger.js'))) throw new Error('dist/ is missing: run npm run build first');
  console.log(`ledger-soak: node ${process.version}`);
  if (config.sections.includes('synthetic')) await sectionSynthetic();
  if (config.sections.includes('soak')) await sectionSoak();
}

main().then(() => process.exit(0), (error) => {
  log(`ledger-soak: ${error.stack ?? error}`);
  process.exit(1);
});
