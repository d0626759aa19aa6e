#!/usr/bin/env node
// bench/ws-capacity.mjs: what one spear agent (one process, one core) can hold
// and record over Socket.IO, against a bare `ws` client and socket.io-client.
//
// What it measures, in one run (each section can be skipped with SECTIONS):
//   rss      RSS per extra idle connection: each client connects N1 users to the
//            socket.io v4 target (examples/targets/socketio-target.js), waits SETTLE
//            seconds, reads the client process's VmRSS (median of 5 reads over 1 s),
//            runs a full GC in it from outside (SIGUSR1 opens its inspector, on a port
//            given with --inspect-port; HeapProfiler.collectGarbage) and reads again;
//            grows to N2 and does the same: slope = (RSS2 - RSS1) / (N2 - N1), after
//            the GC (the target's figure) and as is. An idle process allocates
//            nothing, so without the GC it keeps its ramp's garbage for minutes.
//              spear            flow `connect: {}` + `join`, load.stages N1 → hold → N2
//              ws               bench/ws-capacity/hold-clients.mjs --kind ws
//              socket.io-client bench/ws-capacity/hold-clients.mjs --kind sio
//   connect  Connects per second: CONNECT_N connections opened as fast as asked
//            (CONNECT_RATE/s, far above reach), time from the first attempt to the
//            last Socket.IO connect (spear: summary.connections.timeToAllConnectedMs),
//            against the socket.io target and against bench/ws-capacity/
//            mini-sio-server.mjs (a minimal Socket.IO server on `ws`), with the CPU
//            share of the target and of the client over the ramp (/proc/PID/stat),
//            each core's busy share (/proc/stat) and the SYNs the kernel dropped
//            for a full accept queue (TcpExt ListenOverflows): these name the bottleneck.
//   hold     HOLD_USERS connections asked at HOLD_RATE/s and held by one spear agent
//            for HOLD_S seconds (against the mini server: one process holds < 20,000
//            sockets): every user connected (peak vs asked), agent never lost
//            (agents[].status), load-loop delay p99 during the ramp and the connect
//            rate achieved per interval (timeline[].health: connectsStarted / interval
//            length) vs asked, seconds from the result file written to spear's exit
//            (< 10 s), failures, disconnects, EMFILE, agent RSS (peak, and mid-hold
//            before and after a full GC of its main and worker threads), spear's
//            verdict on itself (summary.generator), and whether the agent stayed healthy.
//   loaded   the same hold on a loaded box: LOADED_BURNERS busy loops
//            (node -e 'for(;;){}') pinned to the client core beside spear.
//   bcast    Broadcast deliveries recorded per second by one agent: BCAST_USERS
//            case-B users (auth, join, wait BCAST_WAIT s, then every <interval> seconds a
//            stamped `msg` type 1 that the server fans out to the sender's group of BCAST_GROUP),
//            deliveries/s over the steady part of the run, agent CPU share over the
//            same window, and deliveries per agent-CPU-second (the capacity figure),
//            against the mini server and the socket.io target, with spear's verdict.
// After every spear run it prints spear's verdict on itself (summary.generator:
// saturated or ok, and why) and the agent's health (agents[].health: load-loop
// delay p99 max, CPU mean/max, RSS max; ELU mean/max from timeline[].health), with
// the 1-minute load average before and after the run, so a reader sees whether
// spear or the target was the limit; all of them again at the end of the report.
// The target is pinned to CPU SERVER_CPU and every client (spear's coordinator and
// agent, the peer scripts) to CPU CLIENT_CPU with taskset. Before each measurement
// the harness waits up to IDLE_WAIT seconds for an idle machine (<= 10% busy).
//
// How to run (from anywhere; installs socket.io-client@4 into the temp dir with
// npm, never into package.json):
//   node bench/ws-capacity.mjs                       # defaults, about 5 minutes
//   N2=3000 CONNECT_N=3000 CONNECT_RUNS=1 HOLD_USERS=5000 HOLD_S=12 BCAST_HOLD=12 BCAST_TARGETS="mini:3 socketio:5" \
//     node bench/ws-capacity.mjs                     # quick look, about 2 minutes
//   SECTIONS="rss connect" node bench/ws-capacity.mjs
//
// Env knobs (defaults in brackets)
//   SECTIONS ["rss connect hold loaded bcast"], CLIENTS ["spear ws socket.io-client"] (rss, connect)
//   N1 [1000], N2 [10000], SETTLE [5] s, RSS_RATE [5000] connects/s while growing
//   CONNECT_N [10000], CONNECT_RATE [100000], CONNECT_RUNS [3] (median), CONNECT_HOLD [10] s
//   (spear's hold after its ramp: connects still in flight when the run ends are cut off),
//   CONNECT_TARGETS ["socketio mini"]
//   HOLD_USERS [19900], HOLD_S [20], HOLD_RATE [5000], HOLD_TARGET [mini], LOADED_BURNERS [1]
//   BCAST_USERS [2000], BCAST_GROUP [1000], BCAST_HOLD [20] s, BCAST_WAIT [3] s,
//   BCAST_TARGETS ["mini:3 socketio:10"] (target:interval in seconds between one user's broadcasts)
//   SERVER_CPU [0], CLIENT_CPU [1], IDLE_WAIT [30] s, KEEP_RAW [0],
//   SIO_CLIENT [socket.io-client@4], SIO_CLIENT_DIR (an existing npm prefix holding it)
//
// Load only goes to 127.0.0.1. Every process the harness starts is its own process
// group, killed at exit (normal, error, Ctrl-C); the temp dir is removed unless KEEP_RAW=1.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const env = (name, fallback) => process.env[name] ?? fallback;
const num = (name, fallback) => {
  const value = Number(env(name, String(fallback)));
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const config = {
  sections: env('SECTIONS', 'rss connect hold loaded bcast').split(/\s+/).filter(Boolean),
  clients: env('CLIENTS', 'spear ws socket.io-client').split(/\s+/).filter(Boolean),
  n1: num('N1', 1000),
  n2: num('N2', 10000),
  settleS: num('SETTLE', 5),
  rssRate: num('RSS_RATE', 5000),
  connectN: num('CONNECT_N', 10000),
  connectRate: num('CONNECT_RATE', 100000),
  connectRuns: num('CONNECT_RUNS', 3),
  connectHoldS: num('CONNECT_HOLD', 10),
  connectTargets: env('CONNECT_TARGETS', 'socketio mini').split(/\s+/).filter(Boolean),
  holdUsers: num('HOLD_USERS', 19900),
  holdS: num('HOLD_S', 20),
  holdRate: num('HOLD_RATE', 5000),
  holdTarget: env('HOLD_TARGET', 'mini'),
  // 0: no mid-hold GC reading (a forced full GC of ~20,000 connections stalls the load loop ~1 s, which the verdict sees)
  holdGc: env('HOLD_GC', '1') !== '0',
  // CPU burners (node -e 'for(;;){}') pinned to the client core during the `loaded` hold
  loadedBurners: num('LOADED_BURNERS', 1),
  bcastUsers: num('BCAST_USERS', 2000),
  bcastGroup: num('BCAST_GROUP', 1000),
  bcastHoldS: num('BCAST_HOLD', 20),
  // kind:interval pairs; the socket.io server tops out near 200,000 deliveries/s, the mini server near 1.5 million
  bcastTargets: env('BCAST_TARGETS', 'mini:3 socketio:10').split(/\s+/).filter(Boolean).map((item) => {
    const [kind, interval = '3'] = item.split(':');
    return { kind, intervalS: Number(interval) };
  }),
  bcastWaitS: num('BCAST_WAIT', 3),
  serverCpu: env('SERVER_CPU', '0'),
  clientCpu: env('CLIENT_CPU', '1'),
  idleWaitS: Number(env('IDLE_WAIT', '30')),
  keepRaw: env('KEEP_RAW', '0') === '1',
  sioClient: env('SIO_CLIENT', 'socket.io-client@4'),
  sioClientDir: process.env.SIO_CLIENT_DIR,
};
if (config.n2 <= config.n1) throw new Error('N2 must be above N1');

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const HELPERS = join(REPO, 'bench', 'ws-capacity');
const WORK = mkdtempSync(join(env('TMPDIR', tmpdir()), 'spear-ws-capacity.'));
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const TARGETS = {
  socketio: { label: 'socket.io v4', script: join(REPO, 'examples', 'targets', 'socketio-target.js'), args: ['--port', '0'] },
  mini: { label: 'mini-sio (ws)', script: join(HELPERS, 'mini-sio-server.mjs'), args: ['--port', '0'] },
};
const CLIENTS = ['spear', 'ws', 'socket.io-client'].filter((client) => config.clients.includes(client));
{
  const unknownClients = config.clients.filter((client) => !['spear', 'ws', 'socket.io-client'].includes(client));
  if (unknownClients.length > 0) throw new Error(`unknown CLIENTS ${unknownClients.join(' ')} (spear ws socket.io-client)`);
}

const log = (...parts) => process.stderr.write(`${parts.join(' ')}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- processes and cleanup

/** Every child is a process-group leader (detached), so killing -pid takes its children (spear's agent) too. */
const children = new Set();

function start(command, args, { cpu, stdout = 'pipe', stderr = 'pipe', stdin = 'ignore' } = {}) {
  const child = spawn('taskset', ['-c', cpu, command, ...args], { detached: true, stdio: [stdin, stdout, stderr] });
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

/** SIGTERM the group, SIGKILL it if still there after `graceMs`. */
async function stop(child, graceMs = 5000) {
  if (!children.has(child)) return;
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
  killGroup(child, 'SIGKILL'); // anything left in the group (an orphaned agent)
}

process.on('exit', () => {
  for (const child of children) killGroup(child, 'SIGKILL');
  if (config.keepRaw) log(`raw outputs kept in ${WORK}`);
  else rmSync(WORK, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => {
  log(`ws-capacity: ${signal}, stopping`);
  process.exit(130);
});

/** Resolves with the first stdout line matching `pattern` (its match), or rejects when the child exits first. */
function waitForLine(child, pattern, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs}ms`)), timeoutMs);
    lines.on('line', (line) => {
      const match = pattern.exec(line);
      if (match === null) return;
      clearTimeout(timer);
      lines.removeAllListeners('line');
      resolve(match);
    });
    child.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before printing ${pattern}`));
    });
  });
}

async function startTarget(kind) {
  const target = TARGETS[kind];
  if (target === undefined) throw new Error(`unknown target ${kind} (socketio or mini)`);
  const child = start('node', [target.script, ...target.args], { cpu: config.serverCpu, stderr: 'inherit' });
  const [, url] = await waitForLine(child, /listening on (http:\/\/\S+)/);
  return { kind, label: target.label, child, pid: child.pid, url };
}

// ---------------------------------------------------------------- /proc readers

function statusKb(pid, field) {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? NaN : Number(match[1]);
  } catch {
    return NaN;
  }
}

/** utime + stime of a process (all threads), in seconds. */
function cpuSeconds(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

function fdCount(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

/** TcpExt ListenOverflows of this network namespace: SYNs dropped because a listen (accept) queue was full. */
function listenOverflows() {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((line) => line.startsWith('TcpExt:'));
    const names = lines[0].split(/\s+/);
    const values = lines[1].split(/\s+/);
    return Number(values[names.indexOf('ListenOverflows')]);
  } catch {
    return NaN;
  }
}

function fdLimit() {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((row) => row.startsWith('Max open files'));
  return Number(line?.trim().split(/\s+/)[4]);
}

/** Median of 5 VmRSS reads over one second, in kB. */
async function steadyRssKb(pid) {
  const reads = [];
  for (let i = 0; i < 5; i += 1) {
    reads.push(statusKb(pid, 'VmRSS'));
    if (i < 4) await sleep(250);
  }
  return median(reads);
}

/**
 * A free port below the ephemeral range (32768-60999 by default), for an
 * inspector: a port from the ephemeral range may be taken by one of the
 * client's own connections before the inspector opens it.
 */
async function freePort() {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const ok = await new Promise((resolve) => {
      const server = createServer().listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
      server.once('error', () => resolve(false));
    });
    if (ok) return port;
  }
}

/**
 * A full garbage collection in another Node process, from outside: SIGUSR1 opens
 * its inspector on the port it was started with (--inspect-port), and the
 * DevTools protocol's HeapProfiler.collectGarbage runs a full GC, in the main
 * thread and in every worker thread (spear's agent runs its load in a worker:
 * NodeWorker.enable attaches to each, NodeWorker.sendMessageToWorker reaches
 * its isolate). An idle process allocates nothing, so it may sit for minutes on
 * the garbage its connect ramp left; after this GC its RSS is what the
 * connections really keep. Resolves with the number of workers collected.
 */
async function collectGarbage(pid, inspectPort) {
  process.kill(pid, 'SIGUSR1');
  let targets;
  for (let i = 0; i < 100 && targets === undefined; i += 1) {
    try {
      targets = await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json();
    } catch {
      await sleep(50);
    }
  }
  const url = targets?.[0]?.webSocketDebuggerUrl;
  if (url === undefined) throw new Error(`no inspector on port ${inspectPort} for pid ${pid}`);
  const socket = new WebSocket(url, { perMessageDeflate: false });
  const send = (message) => socket.send(JSON.stringify(message));
  let timer;
  let workers = 0;
  try {
    await new Promise((resolve, reject) => {
      let mainDone = false;
      let enabledAt = 0;
      const pending = new Set();
      const check = () => {
        // Workers attach right after NodeWorker.enable; give late ones 300 ms.
        if (mainDone && enabledAt > 0 && pending.size === 0 && Date.now() - enabledAt >= 300) resolve();
      };
      const poll = setInterval(check, 50);
      socket.once('open', () => {
        send({ id: 1, method: 'HeapProfiler.collectGarbage' });
        send({ id: 2, method: 'NodeWorker.enable', params: { waitForDebuggerOnStart: false } });
      });
      socket.on('message', (data) => {
        const message = JSON.parse(data.toString());
        if (message.id === 1) mainDone = true;
        if (message.id === 2) enabledAt = Date.now();
        if (message.method === 'NodeWorker.attachedToWorker') {
          const { sessionId } = message.params;
          pending.add(sessionId);
          workers += 1;
          send({ id: 100 + workers, method: 'NodeWorker.sendMessageToWorker', params: { sessionId, message: JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }) } });
        }
        if (message.method === 'NodeWorker.receivedMessageFromWorker' && JSON.parse(message.params.message).id === 1) pending.delete(message.params.sessionId);
        check();
      });
      socket.once('error', reject);
      socket.once('close', () => clearInterval(poll));
      timer = setTimeout(() => {
        clearInterval(poll);
        reject(new Error('HeapProfiler.collectGarbage timed out'));
      }, 20000);
    });
  } finally {
    clearTimeout(timer);
    socket.close();
  }
  await sleep(500);
  return workers;
}

/** RSS as it stands after SETTLE s, then after a full GC (kB each). */
async function plateauRss(pid, inspectPort) {
  process.kill(pid, 'SIGUSR1'); // the inspector's own memory, in both readings of both plateaus
  await sleep(config.settleS * 1000);
  const asIs = await steadyRssKb(pid);
  const gcStartMs = Date.now();
  const workers = await collectGarbage(pid, inspectPort);
  const gcEndMs = Date.now();
  return { asIs, afterGc: await steadyRssKb(pid), workers, gcStartMs, gcEndMs };
}

/**
 * utime+stime (s) of every process this harness did not start (its ancestry does
 * not reach this process), by pid: other people's work on the machine, which
 * skews a measurement however idle the machine was when it began.
 */
function foreignCpuSeconds() {
  const parents = new Map();
  const cpu = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(name), Number(fields[1]));
      cpu.set(Number(name), (Number(fields[11]) + Number(fields[12])) / CLK_TCK);
    } catch {
      // gone
    }
  }
  const ours = (pid) => {
    for (let at = pid, hops = 0; at > 1 && hops < 64; at = parents.get(at) ?? 0, hops += 1) if (at === process.pid) return true;
    return false;
  };
  for (const pid of [...cpu.keys()]) if (ours(pid)) cpu.delete(pid);
  return cpu;
}

/** Busy and total jiffies of each CPU (/proc/stat cpuN lines), softirq time included. */
function cpuJiffies() {
  const cores = {};
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (match === null) continue;
    const values = match[2].trim().split(/\s+/).map(Number);
    const total = values.reduce((sum, value) => sum + value, 0);
    cores[`core${match[1]}`] = { busy: total - values[3] - values[4], total };
  }
  return cores;
}

/**
 * Samples utime+stime of some pids, and the busy share of every core, every
 * 100 ms; the pid list can grow (a client's pid is known only after it starts).
 * `share(pid, t0, t1)`: busy share of one core over [t0, t1] (epoch ms),
 * interpolated between samples; `coreBusy(cpu, t0, t1)`: that core's busy share,
 * whoever used it (softirq work on loopback is often charged to no process).
 */
function growingSampler(pids) {
  const samples = [];
  const foreign = [];
  const takeForeign = () => foreign.push({ t: Date.now(), cpu: foreignCpuSeconds() });
  takeForeign();
  const foreignTimer = setInterval(takeForeign, 500);
  const take = () => {
    const cpu = Object.fromEntries(pids.map((pid) => [pid, cpuSeconds(pid)]));
    for (const [core, { busy, total }] of Object.entries(cpuJiffies())) {
      cpu[core] = busy;
      cpu[`${core}-total`] = total;
    }
    samples.push({ t: Date.now(), cpu });
  };
  take();
  const timer = setInterval(take, 100);
  const at = (key, t) => {
    const valid = samples.filter((sample) => Number.isFinite(sample.cpu[key]));
    if (valid.length === 0) return NaN;
    const after = valid.findIndex((sample) => sample.t >= t);
    if (after < 0) return valid.at(-1).cpu[key];
    if (after === 0) return valid[0].cpu[key];
    const a = valid[after - 1];
    const b = valid[after];
    return a.cpu[key] + ((b.cpu[key] - a.cpu[key]) * (t - a.t)) / Math.max(1, b.t - a.t);
  };
  return {
    add: (pid) => pids.push(pid),
    stop: () => {
      clearInterval(timer);
      clearInterval(foreignTimer);
    },
    /** CPU share (of one core) used by processes this harness did not start, over [t0, t1] widened to the 500 ms samples. */
    foreignShare: (t0, t1) => {
      const first = foreign.findLast((sample) => sample.t <= t0) ?? foreign[0];
      const last = foreign.find((sample) => sample.t >= t1) ?? foreign.at(-1);
      if (first === undefined || last === undefined || last.t <= first.t) return NaN;
      let seconds = 0;
      for (const [pid, cpu] of last.cpu) seconds += cpu - (first.cpu.get(pid) ?? cpu);
      return seconds / ((last.t - first.t) / 1000);
    },
    seconds: (pid, t0, t1) => at(pid, t1) - at(pid, t0),
    share: (pid, t0, t1) => (at(pid, t1) - at(pid, t0)) / Math.max(0.001, (t1 - t0) / 1000),
    coreBusy: (cpu, t0, t1) => (at(`core${cpu}`, t1) - at(`core${cpu}`, t0)) / Math.max(1, at(`core${cpu}-total`, t1) - at(`core${cpu}-total`, t0)),
  };
}

/** Busy share (0-100) of all CPUs over one second. */
async function machineBusyPct() {
  const read = () => readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const before = read();
  await sleep(1000);
  const after = read();
  const delta = after.map((value, index) => value - before[index]);
  const total = delta.reduce((sum, value) => sum + value, 0);
  const idle = delta[3] + delta[4];
  return total > 0 ? (100 * (total - idle)) / total : 0;
}

/** Waits up to IDLE_WAIT s for the machine to be idle (<= 10% busy); returns a note when it never was. */
async function waitForIdle() {
  let busy = 100;
  for (let i = 0; i < Math.max(1, config.idleWaitS); i += 1) {
    busy = await machineBusyPct();
    if (busy <= 10) return '';
  }
  log(`  machine still ${busy.toFixed(0)}% busy after ${config.idleWaitS}s (other processes); this run may read low`);
  return 'machine-busy';
}

// ---------------------------------------------------------------- clients

/** The pid of spear's agent (dist/agents/agent-main.js), a child of the coordinator. */
async function agentPid(coordinator, timeoutMs = 20000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && children.has(coordinator)) {
    try {
      const out = execFileSync('pgrep', ['-P', String(coordinator.pid), '-f', 'agent-main'], { encoding: 'utf8' }).trim();
      if (out !== '') return Number(out.split('\n')[0]);
    } catch {
      // not forked yet
    }
    await sleep(20);
  }
  throw new Error('spear agent process not found');
}

let runCount = 0;
/** How long spear may take to exit once its result file is written. */
const exitGraceMs = 15000;
/** Every spear run of this bench: { name, code, hung, exitLagMs, load: [before, after], health }, for the final self-health list. */
const spearRuns = [];

/** The 1-minute load average, as /proc/loadavg has it. */
const loadAvg = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

/**
 * spear's verdict on itself (summary.generator) and each agent's health over the
 * run (agents[].health), with the load loop's utilization (ELU) mean and max taken
 * from timeline[].health, which agents[].health does not summarize.
 */
function selfHealth(result) {
  const generator = result.summary.generator;
  const agents = result.agents.map((agent) => {
    const own = result.timeline.flatMap((entry) => (entry.health ?? []).filter((health) => health.agent === agent.id));
    const elus = own.map((health) => health.elu).filter(Number.isFinite);
    const h = agent.health;
    return {
      id: agent.id, status: agent.status, reason: agent.reason, intervals: h?.intervals, saturatedIntervals: h?.saturatedIntervals,
      loopP99Max: h?.loopDelayMs.p99Max, loopMax: h?.loopDelayMs.max, eluMean: elus.length === 0 ? NaN : elus.reduce((a, b) => a + b, 0) / elus.length,
      eluMax: elus.length === 0 ? NaN : Math.max(...elus), cpuMean: h?.cpu.mean, cpuMax: h?.cpu.max, rssMbMax: h?.rssMbMax, heapMbMax: h?.heapMbMax, lateMsMax: h?.lateMsMax,
    };
  });
  return { judged: generator !== undefined, saturated: generator?.saturated, reason: generator?.reason, intervals: generator?.intervals ?? [], agents };
}

/** "SATURATED (agent 0, intervals 3-9)" / "ok" / "not judged". */
function verdictWord(health) {
  if (health === undefined || !health.judged) return 'not judged';
  return health.saturated ? 'SATURATED' : 'ok';
}

/** Two or more lines: the verdict with its reason, then one line per agent. */
function healthLines(health) {
  if (health === undefined) return ['no result'];
  const lines = [`generator: ${verdictWord(health)}${health.intervals.length > 0 ? ` (saturated intervals ${health.intervals.join(',')})` : ''}: ${health.reason ?? 'no summary.generator in the result'}`];
  for (const a of health.agents) {
    lines.push(`agent ${a.id} ${a.status}${a.reason ? ` (${a.reason})` : ''}: ${a.saturatedIntervals ?? '?'} of ${a.intervals ?? '?'} intervals saturated; load-loop delay p99 max ${fix(a.loopP99Max, 1)} ms (max ${fix(a.loopMax, 0)} ms); ELU mean ${pct(a.eluMean)} max ${pct(a.eluMax)}; CPU mean ${pct(a.cpuMean)} max ${pct(a.cpuMax)}; RSS max ${fix(a.rssMbMax, 0)} MB, heap max ${fix(a.heapMbMax, 0)} MB; reports late up to ${a.lateMsMax ?? '?'} ms`);
  }
  return lines;
}

/**
 * Starts `spear run` on a scenario (YAML text) with one agent and live progress
 * lines; `onProgress(connected)` hears each interval's connected count.
 * Returns { child, agent, done } where done resolves with { code, result, stderr, hung }.
 * A spear that is still running `exitGraceMs` after writing its result, or
 * `durationS` + 120 s after its start, is killed and reported as hung.
 */
async function startSpear(name, yaml, durationS, onProgress = () => {}, nodeArgs = []) {
  runCount += 1;
  const base = join(WORK, `${String(runCount).padStart(2, '0')}-${name}`);
  writeFileSync(`${base}.yaml`, yaml);
  const child = start('node', [...nodeArgs, join(REPO, 'bin', 'spear.js'), 'run', `${base}.yaml`, '--agents', '1', '--progress', 'lines', '--out', `${base}.json`], { cpu: config.clientCpu });
  let stderr = '';
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr += `${line}\n`;
    const match = /users\s+(\d+) connected/.exec(line);
    if (match !== null) onProgress(Number(match[1]));
  });
  child.stdout.resume();
  let hung = '';
  const loadBefore = loadAvg();
  const startedAt = Date.now();
  let resultSeenAt = 0;
  const watchdog = setInterval(() => {
    if (resultSeenAt === 0 && existsSync(`${base}.json`)) resultSeenAt = Date.now();
    const late = resultSeenAt > 0 && Date.now() - resultSeenAt > exitGraceMs;
    if (late || Date.now() - startedAt > (durationS + 120) * 1000) {
      hung = late ? `spear still running ${exitGraceMs / 1000}s after writing its result (killed)` : 'spear overran its duration by 120s (killed)';
      log(`  ${name}: ${hung}`);
      clearInterval(watchdog);
      killGroup(child, 'SIGKILL');
    }
  }, 500);
  const done = child.exited.then((code) => {
    const exitedAt = Date.now();
    clearInterval(watchdog);
    writeFileSync(`${base}.stderr`, stderr);
    let result;
    let exitLagMs = NaN;
    try {
      // spear writes a temp file and renames it over: its mtime is when the result was written.
      exitLagMs = exitedAt - statSync(`${base}.json`).mtimeMs;
      result = JSON.parse(readFileSync(`${base}.json`, 'utf8'));
    } catch {
      result = undefined;
    }
    const health = result === undefined ? undefined : selfHealth(result);
    const load = [loadBefore, loadAvg()];
    spearRuns.push({ name, code, hung, exitLagMs, load, health });
    log(`  ${name}: spear exit ${code}${hung ? ` (${hung})` : ''} ${fix(exitLagMs / 1000, 1)} s after writing its result; load average ${load[0]} -> ${load[1]}`);
    for (const line of healthLines(health)) log(`    ${line}`);
    return { code, result, stderr, hung, exitLagMs, health, load };
  });
  let agent;
  try {
    agent = await agentPid(child);
  } catch (error) {
    const ended = await done;
    throw new Error(`spear exited ${ended.code} without an agent: ${ended.stderr.trim().split('\n').slice(-3).join(' | ') || error.message}`);
  }
  return { child, agent, done };
}

/** Starts hold-clients.mjs; `next()` resolves with each stage's JSON report, `more()` starts the next stage. */
async function startPeer(kind, url, stages, rate, nodeArgs = []) {
  const args = [...nodeArgs, join(HELPERS, 'hold-clients.mjs'), '--kind', kind === 'ws' ? 'ws' : 'sio', '--url', url, '--stages', stages.join(','), '--rate', String(rate)];
  if (kind !== 'ws') args.push('--sio-dir', config.sioClientDir);
  const child = start('node', args, { cpu: config.clientCpu, stdin: 'pipe' });
  // The inspector announces itself on stderr when the GC reading opens it: not news.
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (!/^(Debugger (listening|attached|ending)|For help, see)/.test(line)) log(`  ${kind}: ${line}`);
  });
  const reports = [];
  let waiting;
  createInterface({ input: child.stdout }).on('line', (line) => {
    let report;
    try {
      report = JSON.parse(line);
    } catch {
      return;
    }
    if (waiting !== undefined) {
      const resolve = waiting;
      waiting = undefined;
      resolve(report);
    } else {
      reports.push(report);
    }
  });
  const next = (timeoutMs = 120000) => new Promise((resolve, reject) => {
    if (reports.length > 0) {
      resolve(reports.shift());
      return;
    }
    const timer = setTimeout(() => reject(new Error(`${kind}: no stage report within ${timeoutMs}ms`)), timeoutMs);
    waiting = (report) => {
      clearTimeout(timer);
      resolve(report);
    };
    child.exited.then((code) => reject(new Error(`${kind} client exited with ${code}`)));
  });
  return { child, pid: child.pid, next, more: () => child.stdin.write('next\n') };
}

async function installSocketIoClient() {
  if (config.sioClientDir !== undefined) return;
  config.sioClientDir = join(WORK, 'sio');
  log(`installing ${config.sioClient} into ${config.sioClientDir} (npm, temp dir only)`);
  execFileSync('npm', ['install', '--prefix', config.sioClientDir, config.sioClient, '--no-save', '--no-audit', '--no-fund', '--loglevel=error'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function sioClientVersion() {
  try {
    return JSON.parse(readFileSync(join(config.sioClientDir, 'node_modules', 'socket.io-client', 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

const ms = (value) => `${Math.max(1, Math.ceil(value))}ms`;

// ---------------------------------------------------------------- 1. RSS per idle connection

async function rssSpear(target) {
  const plateauS = config.settleS + 6;
  const yaml = `name: ws-capacity rss
protocol: socketio
target: ${target.url}
timeouts: { connect: 30s }
load:
  users: ${config.n2}
  stages:
    - { duration: ${ms((config.n1 / config.rssRate) * 1000)}, users: ${config.n1} }
    - { duration: ${plateauS}s, users: ${config.n1} }
    - { duration: ${ms(((config.n2 - config.n1) / config.rssRate) * 1000)}, users: ${config.n2} }
  hold: ${plateauS}s
flow:
  - connect: {}
  - join
`;
  const reached = {};
  const waiters = {};
  const inspectPort = await freePort();
  // The agent is forked with the coordinator's execArgv, so it gets --inspect-port too.
  const spear = await startSpear('rss-spear', yaml, 2 * plateauS + (config.n2 / config.rssRate), (connected) => {
    for (const count of [config.n1, config.n2]) {
      if (connected >= count && reached[count] === undefined) {
        reached[count] = Date.now();
        waiters[count]?.();
      }
    }
  }, [`--inspect-port=${inspectPort}`]);
  const reach = (count) => new Promise((resolve, reject) => {
    if (reached[count] !== undefined) resolve();
    else waiters[count] = resolve;
    spear.done.then(() => reject(new Error(`spear ended before holding ${count}`)));
  });
  try {
    await reach(config.n1);
    const at1 = await plateauRss(spear.agent, inspectPort);
    const server1 = statusKb(target.pid, 'VmRSS');
    await reach(config.n2);
    const at2 = await plateauRss(spear.agent, inspectPort);
    const server2 = statusKb(target.pid, 'VmRSS');
    const { code, result, hung } = await spear.done;
    const c = result?.summary.connections;
    const notes = [];
    if (hung) notes.push('spear-hung');
    else if (code !== 0) notes.push(`spear exit ${code}`);
    if (c !== undefined && c.failed > 0) notes.push(`failed=${c.failed}`);
    if (c !== undefined && c.peak < config.n2) notes.push(`peak=${c.peak}`);
    return { at1, at2, server1, server2, notes };
  } finally {
    await stop(spear.child);
  }
}

async function rssPeer(kind, target) {
  const inspectPort = await freePort();
  const peer = await startPeer(kind, target.url, [config.n1, config.n2], config.rssRate, [`--inspect-port=${inspectPort}`]);
  try {
    const first = await peer.next();
    const at1 = await plateauRss(peer.pid, inspectPort);
    const server1 = statusKb(target.pid, 'VmRSS');
    peer.more();
    const second = await peer.next();
    const at2 = await plateauRss(peer.pid, inspectPort);
    const server2 = statusKb(target.pid, 'VmRSS');
    const failed = first.failed + second.failed;
    return { at1, at2, server1, server2, notes: failed > 0 ? [`failed=${failed} ${JSON.stringify({ ...first.errors, ...second.errors })}`] : [] };
  } finally {
    await stop(peer.child);
  }
}

async function sectionRss() {
  const rows = [];
  for (const client of CLIENTS) {
    const busy = await waitForIdle();
    const target = await startTarget('socketio');
    try {
      const row = client === 'spear' ? await rssSpear(target) : await rssPeer(client, target);
      if (busy) row.notes.push(busy);
      row.client = client;
      const extra = config.n2 - config.n1;
      row.kbPerConn = (row.at2.afterGc - row.at1.afterGc) / extra;
      row.kbPerConnAsIs = (row.at2.asIs - row.at1.asIs) / extra;
      row.serverKbPerConn = (row.server2 - row.server1) / extra;
      log(`  rss ${client.padEnd(16)} after GC ${(row.at1.afterGc / 1024).toFixed(1)} MB at ${config.n1}, ${(row.at2.afterGc / 1024).toFixed(1)} MB at ${config.n2}: ${row.kbPerConn.toFixed(2)} KB/conn (before GC ${row.kbPerConnAsIs.toFixed(2)}) ${row.notes.join(' ')}`);
      rows.push(row);
    } catch (error) {
      log(`  rss ${client} FAILED: ${error.message}`);
      rows.push({ client, failed: error.message, notes: [] });
    } finally {
      await stop(target.child);
    }
  }
  return rows;
}

// ---------------------------------------------------------------- 2. connects per second

async function connectSpear(target, sampler) {
  const yaml = `name: ws-capacity connect
protocol: socketio
target: ${target.url}
timeouts: { connect: 30s }
load:
  users: ${config.connectN}
  connectRate: ${config.connectRate}/s
  hold: ${config.connectHoldS}s
flow:
  - connect: {}
  - join
`;
  const spear = await startSpear('connect-spear', yaml, config.connectHoldS);
  sampler.add(spear.agent);
  const { code, result, hung, health } = await spear.done;
  const c = result?.summary.connections;
  if (c === undefined) throw new Error(`spear exit ${code}, no result`);
  const t0 = Date.parse(result.startedAt);
  const notes = hung ? ['spear-hung'] : [];
  notes.push(`generator=${verdictWord(health)}`);
  if (c.failed > 0) notes.push(`failed=${c.failed} ${JSON.stringify(result.summary.errorCodes)}`);
  if (c.timeToAllConnectedMs === null) return { rate: NaN, t0, t1: t0, pid: spear.agent, notes: [...notes, 'never all connected'] };
  return { rate: config.connectN / (c.timeToAllConnectedMs / 1000), t0, t1: t0 + c.timeToAllConnectedMs, pid: spear.agent, notes, p99: result.summary.connectMs.p99 };
}

async function connectPeer(kind, target, sampler) {
  const peer = await startPeer(kind, target.url, [config.connectN], config.connectRate);
  sampler.add(peer.pid);
  try {
    const report = await peer.next();
    const notes = report.failed > 0 ? [`failed=${report.failed} ${JSON.stringify(report.errors)}`] : [];
    return { rate: report.connected / Math.max(0.001, (report.t1 - report.t0) / 1000), t0: report.t0, t1: report.t1, pid: peer.pid, notes };
  } finally {
    await stop(peer.child);
  }
}

async function sectionConnect() {
  const runs = [];
  for (const targetKind of config.connectTargets) {
    for (let run = 1; run <= config.connectRuns; run += 1) {
      for (const client of CLIENTS) {
        const busy = await waitForIdle();
        const target = await startTarget(targetKind);
        const sampler = growingSampler([target.pid]);
        const overflowsBefore = listenOverflows();
        try {
          const row = client === 'spear' ? await connectSpear(target, sampler) : await connectPeer(client, target, sampler);
          await sleep(150); // one more sample past t1
          row.targetCpu = sampler.share(target.pid, row.t0, row.t1);
          row.clientCpu = sampler.share(row.pid, row.t0, row.t1);
          row.clientCore = sampler.coreBusy(config.clientCpu, row.t0, row.t1);
          row.serverCore = sampler.coreBusy(config.serverCpu, row.t0, row.t1);
          // Dropped SYNs come back after the 1 s retransmission timeout: a full accept queue, not a busy core.
          row.synDrops = listenOverflows() - overflowsBefore;
          row.foreign = sampler.foreignShare(row.t0, row.t1);
          if (row.foreign > 0.1) row.notes.push(`foreign-load=${pct(row.foreign)}`);
          if (row.synDrops > 0) row.notes.push(`syn-drops=${row.synDrops}`);
          if (busy) row.notes.push(busy);
          Object.assign(row, { target: targetKind, client, run });
          log(`  connect ${targetKind.padEnd(8)} run ${run}/${config.connectRuns} ${client.padEnd(16)} ${row.rate.toFixed(0).padStart(6)}/s in ${(row.t1 - row.t0).toFixed(0)} ms; target CPU ${pct(row.targetCpu)} (core ${pct(row.serverCore)}), client CPU ${pct(row.clientCpu)} (core ${pct(row.clientCore)}) ${row.notes.join(' ')}`);
          runs.push(row);
        } catch (error) {
          log(`  connect ${targetKind} run ${run} ${client} FAILED: ${error.message}`);
        } finally {
          sampler.stop();
          await stop(target.child);
        }
      }
    }
  }
  return runs;
}

// ---------------------------------------------------------------- 3. many connections held by one agent

function holdYaml(target, users) {
  return `name: ws-capacity hold
protocol: socketio
target: ${target.url}
timeouts: { connect: 30s }
load:
  users: ${users}
  connectRate: ${config.holdRate}/s
  hold: ${config.holdS}s
flow:
  - connect: {}
  - join
`;
}

/**
 * The ramp of a hold run, from the result: the intervals from the start until
 * every user had connected (or the planned ramp ended, whichever is later), the
 * load loop's delay in them (timeline[].health of agent 0), and the connects the
 * agent started per second in them (connectsStarted / interval length) against
 * the rate asked.
 */
function rampFigures(result, users, askedPerS) {
  const startMs = Date.parse(result.startedAt);
  const c = result.summary.connections;
  const rampEndMs = startMs + Math.max((users / askedPerS) * 1000, c.timeToAllConnectedMs ?? 0);
  const intervals = result.timeline.filter((entry) => entry.startMs < rampEndMs).map((entry) => {
    const health = (entry.health ?? []).find((each) => each.agent === 0);
    const seconds = (entry.endMs - entry.startMs) / 1000;
    return {
      index: entry.index, seconds, p99: health?.loopDelayMs.p99 ?? NaN, max: health?.loopDelayMs.max ?? NaN, elu: health?.elu ?? NaN, cpu: health?.cpu ?? NaN,
      started: health?.connectsStarted ?? NaN, behind: health?.connectsBehind ?? NaN, connecting: health?.connecting ?? NaN, connected: entry.sessions?.connected ?? NaN,
      perS: (health?.connectsStarted ?? NaN) / seconds,
    };
  });
  const started = intervals.reduce((sum, each) => sum + (Number.isFinite(each.started) ? each.started : 0), 0);
  // Mean rate: connects started over the time from the start to the end of the last interval that started any.
  const lastStarting = intervals.findLast((each) => each.started > 0);
  const spanS = lastStarting === undefined ? NaN : (result.timeline.find((entry) => entry.index === lastStarting.index).endMs - startMs) / 1000;
  const finite = (values) => values.filter(Number.isFinite);
  return {
    intervals, started, askedPerS,
    meanPerS: started / spanS,
    maxPerS: Math.max(...finite(intervals.map((each) => each.perS))),
    summaryPerS: c.connectRate?.achievedPerS,
    p99Max: Math.max(...finite(intervals.map((each) => each.p99))),
    delayMax: Math.max(...finite(intervals.map((each) => each.max))),
    behindMax: Math.max(...finite(intervals.map((each) => each.behind))),
    connectingMax: Math.max(...finite(intervals.map((each) => each.connecting))),
  };
}

/**
 * HOLD_USERS users at HOLD_RATE/s held HOLD_S s by one agent on the client core.
 * `loaded`: the same while LOADED_BURNERS busy loops (node -e 'for(;;){}') share
 * the client core with spear: the box is loaded, spear gets part of a core.
 */
async function sectionHold({ loaded = false } = {}) {
  const busy = await waitForIdle();
  const target = await startTarget(config.holdTarget);
  const burners = [];
  let sampler;
  let users = config.holdUsers;
  let preflight;
  const inspectPort = await freePort();
  let allConnected;
  const connectedAll = new Promise((resolve) => {
    allConnected = resolve;
  });
  const name = loaded ? 'hold-loaded' : 'hold';
  const launch = () => startSpear(name, holdYaml(target, users), config.holdS + users / config.holdRate, (connected) => {
    if (connected >= users) allConnected();
  }, [`--inspect-port=${inspectPort}`]);
  try {
    if (loaded) {
      for (let i = 0; i < config.loadedBurners; i += 1) burners.push(start('node', ['-e', 'for(;;){}'], { cpu: config.clientCpu }));
      await sleep(1000); // the burners are spinning before spear starts
    }
    const burnerCpu0 = burners.map((burner) => cpuSeconds(burner.pid));
    const t0 = Date.now();
    sampler = growingSampler([target.pid, ...burners.map((burner) => burner.pid)]);
    let spear;
    try {
      spear = await launch();
    } catch (error) {
      // spear's preflight refuses plans over the open-file limit (64 descriptors kept back per agent).
      preflight = error.message;
      users = fdLimit() - 64;
      log(`  ${name}: spear refused ${config.holdUsers} users (${preflight}); retrying with ${users}`);
      spear = await launch();
    }
    sampler.add(spear.agent);
    sampler.add(spear.child.pid);
    const peaks = { agentFds: 0, targetFds: 0, agentHwm: 0 };
    const watch = setInterval(() => {
      peaks.agentFds = Math.max(peaks.agentFds, fdCount(spear.agent) || 0);
      peaks.targetFds = Math.max(peaks.targetFds, fdCount(target.pid) || 0);
      peaks.agentHwm = Math.max(peaks.agentHwm, statusKb(spear.agent, 'VmHWM') || 0);
    }, 500);
    // Mid-hold: the agent's RSS as it stands, then after a full GC (if the hold leaves time for it).
    const reading = Promise.race([connectedAll, spear.done]).then(async () => {
      if (!children.has(spear.child) || !config.holdGc) return undefined;
      const at = await plateauRss(spear.agent, inspectPort);
      return children.has(spear.child) ? at : undefined;
    }).catch((error) => {
      log(`  ${name}: no mid-hold RSS reading: ${error.message}`);
      return undefined;
    });
    const { code, result, hung, stderr, exitLagMs, health, load } = await spear.done;
    const burnerShare = burners.map((burner, index) => (cpuSeconds(burner.pid) - burnerCpu0[index]) / ((Date.now() - t0) / 1000));
    const rss = await reading;
    clearInterval(watch);
    await sleep(150); // one more CPU sample past the end
    if (result === undefined) throw new Error(`spear exit ${code}, no result`);
    const s = result.summary;
    const startMs = Date.parse(result.startedAt);
    const rampMs = (users / config.holdRate) * 1000;
    const allConnectedMs = startMs + Math.max(rampMs, s.connections.timeToAllConnectedMs ?? Infinity);
    const planEndMs = startMs + rampMs + config.holdS * 1000;
    // Intervals wholly inside the hold, once every user had connected: every user should be connected in each.
    const holdIntervals = result.timeline.filter((entry) => entry.startMs >= allConnectedMs + 1000 && entry.endMs <= planEndMs);
    // Who used the cores: over the ramp (start to all connected) and over the rest of the planned run.
    const window = (from, to) => (to - from < 500 ? undefined : {
      seconds: (to - from) / 1000, agent: sampler.share(spear.agent, from, to), coordinator: sampler.share(spear.child.pid, from, to), target: sampler.share(target.pid, from, to),
      clientCore: sampler.coreBusy(config.clientCpu, from, to), serverCore: sampler.coreBusy(config.serverCpu, from, to), foreign: sampler.foreignShare(from, to),
      burners: burners.reduce((sum, burner) => sum + sampler.share(burner.pid, from, to), 0),
    });
    const cpuRamp = window(startMs, Math.min(allConnectedMs, planEndMs));
    const cpuHold = window(Math.min(allConnectedMs, planEndMs), planEndMs);
    // The bench's own forced GC stalls the load loop: name the intervals it ran in.
    const gcIntervals = rss === undefined ? [] : result.timeline.filter((entry) => entry.startMs < rss.gcEndMs && entry.endMs > rss.gcStartMs).map((entry) => entry.index);
    const heldMin = holdIntervals.length === 0 ? NaN : Math.min(...holdIntervals.map((entry) => entry.sessions?.connected ?? 0));
    const agent = result.agents[0];
    const emfile = Object.keys(s.errorCodes).filter((key) => /EMFILE|ENFILE/.test(key));
    if (/EMFILE|ENFILE/.test(stderr)) emfile.push('EMFILE in stderr');
    const healthy = !hung && code === 0 && agent?.status === 'ok' && emfile.length === 0 && s.connections.failed === 0 && s.connections.disconnects === 0 && heldMin === users;
    return {
      loaded, burners: burners.length, burnerShare, users, requested: config.holdUsers, preflight, code, target: target.label, connections: s.connections, heldMin, holdIntervals: holdIntervals.length,
      errorCodes: s.errorCodes, agentStatus: agent?.status, agentReason: agent?.reason, healthy, hung, emfile, rss, ...peaks, busy,
      ramp: rampFigures(result, users, config.holdRate), exitLagMs, health, load, cpuRamp, cpuHold, gcIntervals,
    };
  } finally {
    sampler?.stop();
    for (const burner of burners) await stop(burner, 1000);
    await stop(target.child);
  }
}

// ---------------------------------------------------------------- 4. broadcast deliveries per agent core

async function bcastRun(targetKind, intervalS) {
  const busy = await waitForIdle();
  const target = await startTarget(targetKind);
  const rampRate = 5000;
  const rampSlackS = Math.ceil(config.bcastUsers / rampRate);
  const yaml = `name: ws-capacity broadcast
protocol: socketio
target: ${target.url}
timeouts: { connect: 30s }
load:
  users: ${config.bcastUsers}
  connectRate: ${rampRate}/s
  hold: ${config.bcastHoldS}s
groups:
  size: ${config.bcastGroup}
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
  - sleep: { duration: ${config.bcastWaitS + rampSlackS}s }   # nobody broadcasts before everyone has joined
  - every:
      interval: ${intervalS}s
      steps:
        - emit:
            event: msg
            data: { type: 1, groupId: "{{group}}", content: "{{stamp}}" }
        - expect:
            event: msg_result
            match: { success: true }
            timeout: 20s
`;
  const sampler = growingSampler([target.pid]);
  try {
    const spear = await startSpear(`bcast-${targetKind}`, yaml, config.bcastHoldS + config.bcastUsers / rampRate + 6);
    sampler.add(spear.agent);
    sampler.add(spear.child.pid);
    const { code, result, hung, health, load } = await spear.done;
    if (result === undefined) throw new Error(`spear exit ${code}, no result`);
    const s = result.summary;
    const startMs = Date.parse(result.startedAt);
    const rampMs = (config.bcastUsers / rampRate) * 1000;
    // Steady part: every user connected and past its first (randomly offset) interval, before the end.
    // Steady part: every user joined, past the wait and its first (randomly offset) interval, before the end.
    const from = startMs + rampMs + (config.bcastWaitS + rampSlackS + intervalS) * 1000;
    const steady = result.timeline.filter((entry) => entry.startMs >= from && entry.endMs <= startMs + rampMs + config.bcastHoldS * 1000 + 50);
    if (steady.length === 0) throw new Error(`no steady interval: raise BCAST_HOLD above ${config.bcastWaitS + rampSlackS + intervalS + 2}s`);
    const t0 = steady[0].startMs;
    const t1 = steady.at(-1).endMs;
    const seconds = (t1 - t0) / 1000;
    const received = steady.reduce((sum, entry) => sum + (entry.sessions?.messagesReceived ?? 0), 0);
    const delivered = steady.reduce((sum, entry) => sum + (entry.sessions?.delivered ?? 0), 0);
    const agentCpuS = sampler.seconds(spear.agent, t0, t1);
    const b = s.broadcast ?? {};
    return {
      target: target.label, code, hung, busy, steadyS: seconds, deliveredPerS: delivered / seconds, receivedPerS: received / seconds,
      agentCpu: agentCpuS / seconds, targetCpu: sampler.share(target.pid, t0, t1), clientCore: sampler.coreBusy(config.clientCpu, t0, t1), serverCore: sampler.coreBusy(config.serverCpu, t0, t1), coordinatorCpu: sampler.share(spear.child.pid, t0, t1), perCpuS: received / agentCpuS,
      offeredPerS: (config.bcastUsers / intervalS) * config.bcastGroup, intervalS, users: s.connections,
      foreign: sampler.foreignShare(t0, t1),
      wholeRunPerS: (b.delivered ?? 0) / s.durationS, broadcast: b, errors: s.errorCodes, health, load,
      // the agent's own view of the steady window: its intervals there, saturated or not
      steadyHealth: steady.map((entry) => (entry.health ?? []).find((each) => each.agent === 0)).filter(Boolean),
    };
  } finally {
    sampler.stop();
    await stop(target.child);
  }
}

async function sectionBcast() {
  const rows = [];
  for (const { kind: targetKind, intervalS } of config.bcastTargets) {
    try {
      const row = await bcastRun(targetKind, intervalS);
      log(`  bcast ${targetKind.padEnd(8)} ${row.receivedPerS.toFixed(0)} deliveries/s, agent CPU ${pct(row.agentCpu)} (core ${pct(row.clientCore)}), target CPU ${pct(row.targetCpu)} (core ${pct(row.serverCore)}): ${row.perCpuS.toFixed(0)} per agent-CPU-s`);
      rows.push(row);
    } catch (error) {
      log(`  bcast ${targetKind} FAILED: ${error.message}`);
    }
  }
  return rows;
}

// ---------------------------------------------------------------- report

function median(values) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
const pct = (share) => (Number.isFinite(share) ? `${(share * 100).toFixed(0)}%` : 'n/a');
const fix = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? (a / b).toFixed(2) : 'n/a');
const verdict = (value, op, bound) => (!Number.isFinite(value) ? '' : (op === '<=' ? value <= bound : value >= bound) ? 'ok' : 'MISS');
const row = (widths, cells) => cells.map((cell, index) => String(cell).padEnd(widths[index] ?? 0)).join(' ').trimEnd();

/** Which side a ramp was bound by: a core at >= 90% is saturated; dropped SYNs mean the target's accept queue overflowed. */
function bottleneck(targetCpu, clientCpu, synDrops) {
  const sides = [];
  if (synDrops > 0) sides.push('target accept queue full');
  if (targetCpu >= 0.9) sides.push('target core saturated');
  if (clientCpu >= 0.9) sides.push('client core saturated');
  return sides.length > 0 ? sides.join(', ') : 'neither core saturated';
}

function printRss(rows) {
  console.log(`\n1. RSS per extra idle connection (socket.io v4 target; client RSS with ${config.n1} and ${config.n2} held, after ${config.settleS}s and after a full GC)`);
  const w = [18, 16, 16, 18, 16, 15, 30];
  console.log(row(w, ['client', `GC'd MB@${config.n1}`, `GC'd MB@${config.n2}`, 'KB/conn (GC\'d)', 'KB/conn (as is)', 'server KB/conn', 'notes']));
  for (const r of rows) {
    if (r.failed) {
      console.log(row(w, [r.client, 'FAILED', '', '', '', '', r.failed]));
      continue;
    }
    const target = r.client === 'spear' ? ` [<=4] ${verdict(r.kbPerConn, '<=', 4)}` : '';
    console.log(row(w, [r.client, fix(r.at1.afterGc / 1024, 1), fix(r.at2.afterGc / 1024, 1), `${fix(r.kbPerConn)}${target}`, fix(r.kbPerConnAsIs), fix(r.serverKbPerConn), r.notes.join(' ')]));
  }
  const kb = (client, key) => rows.find((r) => r.client === client)?.[key];
  console.log(`ratios (GC'd): spear/ws ${ratio(kb('spear', 'kbPerConn'), kb('ws', 'kbPerConn'))}   spear/socket.io-client ${ratio(kb('spear', 'kbPerConn'), kb('socket.io-client', 'kbPerConn'))}`);
  console.log(`ratios (as is): spear/ws ${ratio(kb('spear', 'kbPerConnAsIs'), kb('ws', 'kbPerConnAsIs'))}   spear/socket.io-client ${ratio(kb('spear', 'kbPerConnAsIs'), kb('socket.io-client', 'kbPerConnAsIs'))}`);
}

function printConnect(runs) {
  console.log(`\n2. Connects per second, one process on one core (${config.connectN} connections asked at ${config.connectRate}/s; median of ${config.connectRuns} run(s))`);
  const w = [14, 18, 20, 14, 14, 28, 30];
  console.log(row(w, ['target', 'client', 'connects/s', 'target (core)', 'client (core)', 'bottleneck', 'notes (all runs)']));
  const medians = {};
  for (const targetKind of config.connectTargets) {
    for (const client of CLIENTS) {
      const mine = runs.filter((r) => r.target === targetKind && r.client === client);
      if (mine.length === 0) continue;
      const rate = median(mine.map((r) => r.rate));
      const closest = mine.reduce((best, r) => (Math.abs(r.rate - rate) < Math.abs(best.rate - rate) ? r : best));
      medians[`${targetKind}/${client}`] = rate;
      const goal = client === 'spear' ? ` [>=4000] ${verdict(rate, '>=', 4000)}` : '';
      console.log(row(w, [TARGETS[targetKind].label, client, `${fix(rate, 0)}${goal}`, `${pct(closest.targetCpu)} (${pct(closest.serverCore)})`, `${pct(closest.clientCpu)} (${pct(closest.clientCore)})`,
        bottleneck(closest.targetCpu, closest.clientCpu, closest.synDrops), [...new Set(mine.flatMap((r) => r.notes))].join(' ')]));
    }
  }
  for (const targetKind of config.connectTargets) {
    const m = (client) => medians[`${targetKind}/${client}`];
    console.log(`ratios on ${TARGETS[targetKind].label}: spear/ws ${ratio(m('spear'), m('ws'))}   spear/socket.io-client ${ratio(m('spear'), m('socket.io-client'))}`);
  }
  console.log('per run (target client run connects/s target-CPU client-CPU notes):');
  for (const r of runs) console.log(`  ${r.target} ${r.client} ${r.run} ${fix(r.rate, 0)} ${pct(r.targetCpu)} ${pct(r.clientCpu)} ${r.notes.join(' ')}`);
  console.log('(CPU: the process\'s utime+stime over the ramp as a share of one core; core: that core\'s busy share, softirq included)');
  return medians;
}

function printHold(h, number) {
  const title = h.loaded
    ? `${number}. The same on a loaded box: ${h.burners} busy loop(s) (node -e 'for(;;){}') pinned to the client core beside spear`
    : `${number}. Connections held by one spear agent`;
  console.log(`\n${title} (${h.target} target, ${h.users} users asked at ${config.holdRate}/s, ${config.holdS}s hold; load average ${h.load[0]} -> ${h.load[1]})`);
  if (h.preflight) console.log(`spear refused ${h.requested} users with --agents 1: "${h.preflight}"; ran ${h.users}`);
  const c = h.connections;
  const r = h.ramp;
  const every = c.peak >= h.users && c.timeToAllConnectedMs !== null;
  console.log(`every user connected: ${every ? 'yes' : 'NO'} (peak ${c.peak} of ${h.users} asked; opened ${c.opened}, failed ${c.failed}, disconnects ${c.disconnects}; all connected after ${c.timeToAllConnectedMs ?? 'never'} ms)`);
  console.log(`agent never lost: ${h.agentStatus === 'ok' ? 'yes' : 'NO'} (agents[0].status ${h.agentStatus}${h.agentReason ? `: ${h.agentReason}` : ''}; reports late up to ${h.health?.agents[0]?.lateMsMax ?? '?'} ms)`);
  console.log(`load-loop delay during the ramp (intervals ${r.intervals.map((each) => each.index).join(',')}): p99 max ${fix(r.p99Max, 1)} ms, max ${fix(r.delayMax, 0)} ms; per interval p99 ${r.intervals.map((each) => fix(each.p99, 0)).join(' / ')} ms`);
  console.log(`connect rate: asked ${r.askedPerS}/s, achieved ${fix(r.meanPerS, 0)}/s over the ramp (${r.started} started), best interval ${fix(r.maxPerS, 0)}/s (summary.connections.connectRate.achievedPerS ${fix(r.summaryPerS, 0)}); per interval ${r.intervals.map((each) => fix(each.perS, 0)).join(' / ')}; connectsBehind max ${fix(r.behindMax, 0)}, handshakes in flight max ${fix(r.connectingMax, 0)}`);
  console.log(`ramp ELU per interval ${r.intervals.map((each) => pct(each.elu)).join(' / ')}; CPU per interval ${r.intervals.map((each) => pct(each.cpu)).join(' / ')}${h.loaded ? `; the burners took ${h.burnerShare.map(pct).join(', ')} of a core over the run` : ''}`);
  const cpuLine = (w) => (w === undefined ? 'n/a' : `agent ${pct(w.agent)}, coordinator ${pct(w.coordinator)}${h.loaded ? `, burners ${pct(w.burners)}` : ''}, client core busy ${pct(w.clientCore)} (softirq included); target ${pct(w.target)}, server core ${pct(w.serverCore)}; other people's processes ${pct(w.foreign)} of a core (over ${fix(w.seconds, 1)} s)`);
  console.log(`CPU over the ramp: ${cpuLine(h.cpuRamp)}`);
  console.log(`CPU over the rest of the run: ${cpuLine(h.cpuHold)}`);
  if (h.gcIntervals.length > 0) console.log(`note: the bench's own forced full GC (inspector, for the after-GC RSS) ran in interval(s) ${h.gcIntervals.join(',')}: the load-loop delay there is the bench's doing (HOLD_GC=0 skips it)`);
  console.log(`exit: ${fix(h.exitLagMs / 1000, 1)} s from result written to process exit [< 10 s] ${verdict(h.exitLagMs, '<=', 10000)}${h.hung ? ` (${h.hung})` : ''}, exit code ${h.code}`);
  console.log(`held through the hold: min ${h.heldMin} connected over ${h.holdIntervals} whole interval(s); peak fds: agent ${h.agentFds}, server ${h.targetFds}`);
  const rss = h.rss === undefined ? 'n/a (the hold ended first)' : `${fix(h.rss.asIs / 1024, 1)} MB as is, ${fix(h.rss.afterGc / 1024, 1)} MB after a full GC of the main thread and ${h.rss.workers} worker(s) (${fix(h.rss.afterGc / h.users, 2)} KB per connection)`;
  console.log(`agent peak RSS ${fix(h.agentHwm / 1024, 1)} MB (VmHWM); mid-hold RSS ${rss}`);
  console.log(`errors ${JSON.stringify(h.errorCodes)}${h.emfile.length > 0 ? ` EMFILE: ${h.emfile.join(', ')}` : ''}`);
  for (const line of healthLines(h.health)) console.log(line);
  console.log(`healthy (no EMFILE, no failure or drop, every user held): ${h.healthy ? 'yes' : 'NO'}${h.busy ? ' (machine-busy)' : ''}`);
}

function printBcast(rows) {
  console.log(`\n4. Broadcast deliveries recorded by one agent core (${config.bcastUsers} users, groups of ${config.bcastGroup}, each user broadcasts every <interval>; all users join, wait ${config.bcastWaitS}s, then broadcast)`);
  const w = [14, 15, 13, 11, 10, 12, 11, 12, 26, 12, 40];
  console.log(row(w, ['target', 'offered/s', 'deliveries/s', 'on time/s', 'agent CPU', 'client core', 'target CPU', 'server core', 'per agent-CPU-s [>=150k]', 'generator', 'limit']));
  for (const r of rows) {
    const sides = [];
    if (r.targetCpu >= 0.9 || r.serverCore >= 0.95) sides.push('server core saturated');
    if (r.agentCpu >= 0.95 || r.clientCore >= 0.95) sides.push('client core busy');
    if (r.receivedPerS >= 0.95 * r.offeredPerS) sides.push('all offered delivered');
    const limit = sides.length > 0 ? sides.join(', ') : 'neither core saturated';
    console.log(row(w, [r.target, `${fix(r.offeredPerS, 0)} (${r.intervalS}s)`, fix(r.receivedPerS, 0), fix(r.deliveredPerS, 0), pct(r.agentCpu), pct(r.clientCore), pct(r.targetCpu), pct(r.serverCore), `${fix(r.perCpuS, 0)} ${verdict(r.perCpuS, '>=', 150000)}`, verdictWord(r.health), limit]));
  }
  console.log('  (generator: spear\'s own verdict, summary.generator; the steady window\'s agent intervals below: load-loop p99 ms / ELU / CPU)');
  for (const r of rows) {
    const b = r.broadcast;
    const lat = b.latencyMs ?? {};
    console.log(`  ${r.target}: ${r.users.opened} of ${r.users.users} users connected; steady window ${fix(r.steadyS, 1)}s, spear coordinator CPU ${pct(r.coordinatorCpu)} (same core)${r.foreign > 0.1 ? `, other processes' load ${pct(r.foreign)} of a core (skewed)` : ''}; whole run: sent ${b.sent} expected ${b.expected} delivered ${b.delivered} lost ${b.lost} late ${b.late ?? 0} (${fix(r.wholeRunPerS, 0)} delivered/s over the run); latency p50 ${fix(lat.p50)} ms p99 ${fix(lat.p99)} ms; unverified ${b.unverified ?? 'n/a'}; errors ${JSON.stringify(r.errors)}${r.hung ? ` ${r.hung}` : ''}${r.busy ? ' machine-busy' : ''}; load average ${r.load[0]} -> ${r.load[1]}`);
    console.log(`    steady window, per interval: ${r.steadyHealth.map((each) => `${fix(each.loopDelayMs.p99, 0)}/${pct(each.elu)}/${pct(each.cpu)}`).join(' ')}`);
    for (const line of healthLines(r.health)) console.log(`    ${line}`);
  }
}

/** Every spear run of the bench: its verdict on itself and each agent's health, so a reader sees whether spear or the target was the limit. */
function printSelfHealth() {
  if (spearRuns.length === 0) return;
  console.log('\nspear self-health, every spear run (summary.generator, agents[].health; ELU from timeline[].health)');
  for (const run of spearRuns) {
    console.log(`  ${run.name}: exit ${run.code}${run.hung ? ` (${run.hung})` : ''}, ${fix(run.exitLagMs / 1000, 1)} s from result to exit; load average ${run.load[0]} -> ${run.load[1]}`);
    for (const line of healthLines(run.health)) console.log(`    ${line}`);
  }
}

function printTargets(results, connectMedians) {
  console.log('\ntargets (ok / MISS)');
  const spearRss = results.rss?.find((r) => r.client === 'spear');
  if (spearRss?.kbPerConn !== undefined) console.log(`  RSS per idle connection (after GC) <= 4 KB:   ${fix(spearRss.kbPerConn)} KB ${verdict(spearRss.kbPerConn, '<=', 4)}`);
  for (const targetKind of config.connectTargets) {
    const rate = connectMedians[`${targetKind}/spear`];
    if (rate !== undefined) console.log(`  connects/s >= 4000 (${TARGETS[targetKind].label.padEnd(13)}):   ${fix(rate, 0)} ${verdict(rate, '>=', 4000)}`);
  }
  for (const h of [results.hold, results.loaded].filter(Boolean)) {
    const label = h.loaded ? 'on a loaded box' : 'on one agent   ';
    console.log(`  ${config.holdUsers} connections ${label}:    ${h.heldMin} held${h.users !== config.holdUsers ? ` (${h.users} run)` : ''}, healthy ${h.healthy ? 'ok' : 'MISS'}; exit ${fix(h.exitLagMs / 1000, 1)} s after the result [< 10 s] ${verdict(h.exitLagMs, '<=', 10000)}; generator ${verdictWord(h.health)}`);
  }
  for (const r of results.bcast ?? []) console.log(`  deliveries per agent-CPU-s >= 150k (${r.target}): ${fix(r.perCpuS, 0)} ${verdict(r.perCpuS, '>=', 150000)}`);
}

// ---------------------------------------------------------------- main

async function main() {
  const unknown = config.sections.filter((section) => !['rss', 'connect', 'hold', 'loaded', 'bcast'].includes(section));
  if (unknown.length > 0) throw new Error(`unknown SECTIONS ${unknown.join(' ')} (rss connect hold loaded bcast)`);
  if (!existsSync(join(REPO, 'dist', 'cli.js'))) throw new Error('dist/cli.js is missing: run npm run build first');
  if ((config.sections.includes('rss') || config.sections.includes('connect')) && CLIENTS.includes('socket.io-client')) await installSocketIoClient();
  const spearVersion = execFileSync('node', [join(REPO, 'bin', 'spear.js'), '--version'], { encoding: 'utf8' }).trim();
  log(`spear ${spearVersion}, node ${process.version}, socket.io-client ${config.sioClientDir ? sioClientVersion() : '-'}; targets on CPU ${config.serverCpu}, clients on CPU ${config.clientCpu}; open-file limit ${fdLimit()}`);
  const results = {};
  if (config.sections.includes('rss')) {
    log('1. RSS per idle connection');
    results.rss = await sectionRss();
  }
  if (config.sections.includes('connect')) {
    log('2. connects per second');
    results.connect = await sectionConnect();
  }
  if (config.sections.includes('hold')) {
    log(`3. ${config.holdUsers} connections on one agent`);
    try {
      results.hold = await sectionHold();
      const h = results.hold;
      log(`  hold ${h.users} users: peak ${h.connections.peak}, failed ${h.connections.failed}, disconnects ${h.connections.disconnects}, agent ${h.agentStatus}, healthy ${h.healthy ? 'yes' : 'NO'}`);
    } catch (error) {
      log(`  hold FAILED: ${error.message}`);
    }
  }
  if (config.sections.includes('loaded')) {
    log(`3b. ${config.holdUsers} connections on one agent, ${config.loadedBurners} busy loop(s) on its core`);
    try {
      results.loaded = await sectionHold({ loaded: true });
      const h = results.loaded;
      log(`  loaded hold ${h.users} users: peak ${h.connections.peak}, failed ${h.connections.failed}, disconnects ${h.connections.disconnects}, agent ${h.agentStatus}, healthy ${h.healthy ? 'yes' : 'NO'}`);
    } catch (error) {
      log(`  loaded hold FAILED: ${error.message}`);
    }
  }
  if (config.sections.includes('bcast')) {
    log('4. broadcast deliveries per agent core');
    results.bcast = await sectionBcast();
  }
  console.log(`\nws-capacity: spear ${spearVersion}, node ${process.version}, targets on CPU ${config.serverCpu}, clients on CPU ${config.clientCpu}`);
  if (results.rss) printRss(results.rss);
  const connectMedians = results.connect ? printConnect(results.connect) : {};
  if (results.hold) printHold(results.hold, '3');
  if (results.loaded) printHold(results.loaded, '3b');
  if (results.bcast) printBcast(results.bcast);
  printSelfHealth();
  printTargets(results, connectMedians);
  if (config.keepRaw) writeFileSync(join(WORK, 'results.json'), JSON.stringify(results, null, 2));
}

main().then(() => process.exit(0), (error) => {
  log(`ws-capacity: ${error.stack ?? error}`);
  process.exit(1);
});
