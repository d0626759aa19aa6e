#!/usr/bin/env node
// bench/ws-100k.mjs: 100,000 Socket.IO users from this one host, with no
// --agents: spear plans its local agents from the open-file limit (one process
// holds < 20,000 sockets), the users spread over SERVERS local minimal
// Socket.IO servers (bench/ws-capacity/mini-sio-server.mjs) by a feeder
// column, so no server process passes its own descriptor limit and no
// (source, destination) pair passes its ephemeral ports.
//
// Prints what the issue asks for: the plan spear chose (spear validate), peak
// users vs asked, failed connects, agents lost, time to all connected, each
// agent's RSS and load-loop delay (agents[].health), the coordinator's peak
// RSS (sampled from /proc every second) and spear's verdict on itself.
//
//   node bench/ws-100k.mjs                          # 100,000 users, ~3 minutes
//   USERS=20000 RATE=2000 HOLD=10 node bench/ws-100k.mjs    # a quick look
//
// Env knobs: USERS [100000], SERVERS [6], RATE [2500] users/s asked,
// HOLD [30] s after the ramp, SPEAR [bin/spear.js of this checkout].
// Load goes to 127.0.0.1 only, bounded by the ramp plus HOLD.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const users = Number(process.env.USERS ?? 100_000);
const serverCount = Number(process.env.SERVERS ?? 6);
const rate = Number(process.env.RATE ?? 2500);
const holdS = Number(process.env.HOLD ?? 30);
const spear = process.env.SPEAR ?? join(here, '..', 'bin', 'spear.js');
const dir = mkdtempSync(join(tmpdir(), 'spear-100k-'));
const children = [];

/** Starts one mini server on a free port; resolves its port. */
function startServer() {
  const child = spawn(process.execPath, [join(here, 'ws-capacity', 'mini-sio-server.mjs'), '--port', '0', '--backlog', '8192'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(chunk.toString());
      if (match !== null) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`mini server exited (${code})`)));
  });
}

/** VmRSS of a pid in MB, or 0 when it is gone. */
function rssMb(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((row) => row.startsWith('VmRSS:'));
    return Math.round(Number(line?.split(/\s+/)[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
}

function run(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [spear, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakRss = 0;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, rssMb(child.pid));
    }, 1000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('exit', (code) => {
      clearInterval(sampler);
      resolve({ code, stdout, stderr, peakRss });
    });
  });
}

try {
  const ports = await Promise.all(Array.from({ length: serverCount }, startServer));
  writeFileSync(join(dir, 'servers.csv'), `port\n${ports.join('\n')}\n`);
  const scenario = join(dir, 'users.yaml');
  writeFileSync(scenario, [
    'protocol: socketio',
    `target: http://127.0.0.1:${ports[0]}`,
    `load: {users: ${users}, connectRate: ${rate}/s, hold: ${holdS}s}`,
    'feeder: servers.csv',
    'timeouts: {connect: 30s}',
    'flow:',
    '  - connect: {url: "http://127.0.0.1:{{feeder.port}}"}',
    '',
  ].join('\n'));
  const plan = await run(['validate', scenario]);
  process.stdout.write(plan.stdout.split('\n').filter((line) => /agents|load/.test(line)).map((line) => `plan: ${line.trim()}\n`).join(''));
  if (plan.code !== 0) throw new Error(`spear validate failed: ${plan.stderr}`);
  const out = join(dir, 'result.json');
  const started = performance.now();
  const result = await run(['run', scenario, '--quiet', '--out', out]);
  const wallS = (performance.now() - started) / 1000;
  const data = JSON.parse(readFileSync(out, 'utf8'));
  const connections = data.summary.connections;
  const lost = data.agents.filter((agent) => agent.status !== 'ok');
  console.log(`users asked ${users} at ${rate}/s over ${serverCount} servers: peak ${connections.peak}, opened ${connections.opened}, failed ${connections.failed}, dropped ${connections.disconnects}`);
  console.log(`all connected after ${connections.timeToAllConnectedMs === null ? 'never' : `${(connections.timeToAllConnectedMs / 1000).toFixed(1)} s`}; connect rate achieved up to ${connections.connectRate?.achievedPerS}/s; wall ${wallS.toFixed(1)} s; spear exit ${result.code}`);
  console.log(`agents: ${data.agents.length}, lost ${lost.length}${lost.map((agent) => ` (agent ${agent.id}: ${agent.reason})`).join('')}`);
  for (const agent of data.agents) {
    const health = agent.health;
    console.log(`  agent ${agent.id} (${agent.host ?? '?'}): ${agent.connections} users, RSS max ${health.rssMbMax} MB, load-loop delay p99 max ${health.loopDelayMs.p99Max} ms (max ${health.loopDelayMs.max}), CPU mean ${Math.round(health.cpu.mean * 100)}%, ELU max ${Math.round(health.elu.max * 100)}%, late ${health.lateMsMax} ms, ${health.saturatedIntervals}/${health.intervals} intervals saturated`);
  }
  console.log(`coordinator RSS peak ${result.peakRss} MB`);
  const generator = data.summary.generator;
  console.log(`spear's verdict: ${generator.saturated ? 'SATURATED' : 'ok'}: ${generator.reason}`);
  if (result.code !== 0) process.stdout.write(result.stderr);
} finally {
  for (const child of children) child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
