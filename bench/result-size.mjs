#!/usr/bin/env node
// How the result file grows with agents and intervals, and when a run's result
// would pass V8's longest string (the limit `JSON.parse` in `spear report`
// meets, and that `JSON.stringify` of the whole result met before results
// were written streamed).
//
// Builds a result from synthetic interval reports through the real coordinator
// code in dist/ (RunMerger, buildResult) and writes it as `spear run` does
// (writeResult), for each agent count, then fits bytes = a + b·intervals +
// c·agents·intervals from two interval counts. Pure CPU, one process; a few
// seconds at the defaults.
//
//   npm run build && node bench/result-size.mjs
//   AGENTS="10 100 500" INTERVALS="10 30" REQS=3000 node bench/result-size.mjs
//
// Env: AGENTS ("10 100 500"), INTERVALS ("10 30": two counts, for the slope),
// REQS (latencies per agent per interval, 3000 as bench/fleet-merge.mjs),
// HOURS_AT (500: the agent count the projection is given for).
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { constants } from 'node:buffer';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = (path) => import(new URL(`../dist/${path}`, import.meta.url).href);
const { RunMerger } = await dist('metrics/merger.js');
const { Recorder } = await dist('metrics/recorder.js');
const { buildResult } = await dist('report/result.js');
const { writeResult } = await dist('report/result-file.js');
const { scenarioFromFlags } = await dist('scenarios/load.js');

const list = (name, fallback) => (process.env[name] ?? fallback).split(/\s+/).filter(Boolean).map(Number);
const agentCounts = list('AGENTS', '10 100 500');
const [shortRun = 10, longRun = 30] = list('INTERVALS', '10 30');
const requests = Number(process.env.REQS ?? 3000);
const hoursAt = Number(process.env.HOURS_AT ?? 500);

/** Deterministic pseudo-random numbers: every run measures the same bytes. */
function random(seed) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state / 4294967296;
  };
}

/** Health as an agent reports it (rounded as src/agents/health-probe.ts rounds it). */
function health(next) {
  const p99 = Math.round((2 + 10 * next()) * 100) / 100;
  return {
    loopDelayMs: { p50: Math.round(p99 * 40) / 100, p99, max: Math.round(p99 * 150) / 100 },
    elu: Math.round(next() * 600) / 1000, cpu: Math.round(next() * 600) / 1000,
    rssMb: 80 + Math.floor(next() * 40), heapMb: 10 + Math.floor(next() * 20), connecting: 0, connectsStarted: 0, connectsBehind: 0,
  };
}

async function resultBytes(agents, intervals, directory) {
  const scenario = scenarioFromFlags({ target: 'http://127.0.0.1:8080', connections: String(agents * 10), duration: `${intervals}s` });
  const ids = Array.from({ length: agents }, (_, id) => id);
  const merger = new RunMerger(ids);
  const next = random(agents * 7919 + intervals);
  const recorders = ids.map(() => new Recorder());
  for (let index = 0; index < intervals; index += 1) {
    for (const agentId of ids) {
      const recorder = recorders[agentId];
      for (let count = 0; count < requests; count += 1) {
        // Lognormal around 2 ms with a tail to ~50 ms, as bench/fleet-merge.mjs.
        const normal = Math.sqrt(-2 * Math.log(next() || 1e-9)) * Math.cos(2 * Math.PI * next());
        const us = Math.round(2000 * Math.exp(0.6 * normal));
        recorder.response(200, 180, us, us);
      }
      const { counters, histograms } = recorder.takeInterval(agents * 10, 0);
      merger.add({ type: 'interval', agentId, index, startMs: 1_800_000_000_000 + index * 1000, endMs: 1_800_000_001_000 + index * 1000, counters, histograms, health: health(next) });
    }
  }
  const outcomes = ids.map((id) => ({ id, pid: 1000 + id, host: `host-${id % 16}`, address: `10.0.${Math.floor(id / 250)}.${id % 250}:7070`, status: 'ok', reason: undefined, connections: 10, clock: { offsetUs: 12, uncertaintyUs: 40 }, lateMsMax: 0 }));
  const result = buildResult(scenario, merger, outcomes, false);
  const file = join(directory, `result-${agents}-${intervals}.json`);
  await writeResult(file, result);
  const bytes = (await stat(file)).size;
  await rm(file);
  const entries = result.timeline;
  const chars = (pick) => entries.reduce((sum, entry) => sum + JSON.stringify(pick(entry) ?? null).length, 0) / entries.length;
  parts.set(agents, { histogram: chars((entry) => entry.histogram), health: chars((entry) => entry.health) });
  return bytes;
}

/** Per agent count: the mean characters per timeline entry of its histogram, and its health rows (compact JSON). */
const parts = new Map();

const directory = await mkdtemp(join(tmpdir(), 'spear-result-size-'));
try {
  const rows = [];
  for (const agents of agentCounts) {
    const short = await resultBytes(agents, shortRun, directory);
    const long = await resultBytes(agents, longRun, directory);
    rows.push({ agents, short, long, perInterval: (long - short) / (longRun - shortRun) });
  }
  // bytes per interval = b + c·agents: fit over the agent counts (least squares).
  const mean = (values) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const mx = mean(rows.map((row) => row.agents));
  const my = mean(rows.map((row) => row.perInterval));
  const sxx = rows.reduce((sum, row) => sum + (row.agents - mx) ** 2, 0);
  const perAgent = sxx === 0 ? NaN : rows.reduce((sum, row) => sum + (row.agents - mx) * (row.perInterval - my), 0) / sxx;
  const base = my - perAgent * mx;
  console.log(`result file bytes (${requests} latencies per agent per interval, 1 s intervals, HTTP closed model)`);
  console.log('agents | file at ' + `${shortRun} intervals | file at ${longRun} intervals | bytes per interval | hours to ${Math.round(constants.MAX_STRING_LENGTH / 1048576)} MiB`);
  for (const row of rows) {
    const hours = (constants.MAX_STRING_LENGTH - row.short) / row.perInterval / 3600;
    const part = parts.get(row.agents);
    console.log(`${row.agents} | ${row.short} | ${row.long} | ${row.perInterval.toFixed(0)} | ${hours.toFixed(1)} | histogram ${part.histogram.toFixed(0)}, health rows ${part.health.toFixed(0)} chars per entry`);
  }
  console.log(`fit: bytes per interval = ${base.toFixed(0)} + ${perAgent.toFixed(1)} per agent`);
  const at = base + perAgent * hoursAt;
  console.log(`at ${hoursAt} agents: ${at.toFixed(0)} bytes per interval, ${(constants.MAX_STRING_LENGTH / at / 3600).toFixed(1)} h of 1 s intervals to V8's longest string (${constants.MAX_STRING_LENGTH} characters)`);
} finally {
  await rm(directory, { recursive: true, force: true });
}
