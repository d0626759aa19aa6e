import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BroadcastLedger, lateHorizonMs, type BroadcastSummary, type ReceiverCheck } from '../src/coordinator/broadcast-ledger.js';
import { saturationLookup, type AgentIntervalHealth } from '../src/metrics/generator-verdict.js';
import { emptySessionCounters } from '../src/metrics/session-recorder.js';
import type { AgentHealth, BroadcastReceipt, MembershipChange, SentBroadcast, SessionReport } from '../src/wire/messages.js';
import { ReceiptRows } from '../src/wire/receipt-rows.js';
import { seededRandom } from './support/response-primitives.js';

// Synthetic interval reports from two agents (0 and 1), as their broadcast
// trackers would send them; agent health goes through the real saturation
// lookup. Times: wall clock ms from T0, µs on the wire.
const T0 = 1_700_000_000_000;
const us = (ms: number): number => (T0 + ms) * 1000;
const timeoutMs = 2000;

const calm: AgentHealth = { loopDelayMs: { p50: 0, p99: 1, max: 2 }, elu: 0.2, cpu: 0.2, rssMb: 60, heapMb: 10, connecting: 0, connectsStarted: 0, connectsBehind: 0 };
const busy: AgentHealth = { ...calm, loopDelayMs: { p50: 40, p99: 400, max: 900 }, cpu: 1 };

interface Parts {
  sent?: SentBroadcast[];
  receipts?: BroadcastReceipt[];
  membership?: MembershipChange[];
}

function report(parts: Parts): SessionReport {
  return {
    counters: emptySessionCounters(),
    histograms: { connect: '', reply: '', delivery: '' },
    sent: parts.sent ?? [],
    receipts: ReceiptRows.of(parts.receipts ?? []),
    membership: parts.membership ?? [],
  };
}

/** A receipt row: first copies in time and late, plus duplicates and copies to late joiners. */
function receipt(sender: number, seq: number, counts: { delivered?: number; late?: number; duplicated?: number; unexpected?: number }, atMs: number, group = 0): BroadcastReceipt {
  return [sender, seq, counts.delivered ?? 0, counts.late ?? 0, counts.duplicated ?? 0, 0, 0, counts.unexpected ?? 0, us(atMs), us(atMs), group];
}

/** Members of `group` joining at `atMs`. */
function joins(group: number, count: number, atMs: number): MembershipChange[] {
  return Array.from({ length: count }, (): MembershipChange => [group, us(atMs), 1]);
}

/**
 * Ten 1 s intervals per agent from T0: `busy` lists [agent, interval]
 * pairs that were saturated, `missing` those never reported.
 */
function check(busyIntervals: [number, number][] = [], missing: [number, number][] = []): ReceiverCheck {
  const has = (list: [number, number][], agent: number, index: number): boolean => list.some(([a, i]) => a === agent && i === index);
  const health = new Map<number, AgentIntervalHealth[]>();
  for (const agent of [0, 1]) {
    const list: AgentIntervalHealth[] = [];
    for (let index = 0; index < 10; index += 1) {
      if (has(missing, agent, index)) continue;
      const startMs = T0 + index * 1000;
      list.push({ agent, index, startMs, endMs: startMs + 1000, ...(has(busyIntervals, agent, index) ? busy : calm) });
    }
    health.set(agent, list);
  }
  return { saturated: saturationLookup(health), timeoutMs };
}

/**
 * One broadcast: group 0 has 3 members on each agent (joined at 100 ms);
 * agent 0's user 0 sends at 1500 ms (its window ends at 3500 ms). Agent 0
 * gets both copies it expects (the sender is left out); agent 1 gets 1 of 3.
 */
function oneGap(): BroadcastLedger {
  const ledger = new BroadcastLedger(false);
  ledger.add(0, report({ membership: joins(0, 3, 100) }));
  ledger.add(1, report({ membership: joins(0, 3, 100) }));
  ledger.add(0, report({ sent: [[0, 0, 0, us(1500)]], receipts: [receipt(0, 0, { delivered: 2 }, 1502)] }));
  ledger.add(1, report({ receipts: [receipt(0, 0, { delivered: 1 }, 1503)] }));
  return ledger;
}

const counts = (summary: BroadcastSummary): number[] =>
  [summary.sent, summary.expected, summary.delivered, summary.late, summary.lost, summary.unverified];

test('copies missing at an agent saturated during the window are unverified, not lost', () => {
  const summary = oneGap().summarize(check([[1, 2]]));
  assert.deepEqual(counts(summary), [1, 5, 3, 0, 0, 2]);
  assert.deepEqual(summary.groups, [{ group: 0, sent: 1, expected: 5, delivered: 3, lost: 0, unverified: 2, late: 0, duplicated: 0 }]);
});

test('the same gaps with both agents healthy are lost', () => {
  const summary = oneGap().summarize(check());
  assert.deepEqual(counts(summary), [1, 5, 3, 0, 2, 0]);
  // Saturation before or after the window does not excuse it, nor does the other agent's.
  assert.deepEqual(counts(oneGap().summarize(check([[1, 0], [1, 4], [0, 2]]))), [1, 5, 3, 0, 2, 0]);
});

test('without a receiver check every missing copy is lost, as before', () => {
  assert.deepEqual(counts(oneGap().summarize()), [1, 5, 3, 0, 2, 0]);
});

test('a window partly outside any reported interval is unverified', () => {
  // Agent 1 did not report its interval [3000, 4000): the window [1500, 3500] is not fully covered.
  assert.deepEqual(counts(oneGap().summarize(check([], [[1, 3]]))), [1, 5, 3, 0, 0, 2]);
  // A send at 9000 ms: its window runs to 11000 ms, past the last interval (10000 ms).
  const ledger = new BroadcastLedger(false);
  ledger.add(0, report({ membership: joins(0, 3, 100) }));
  ledger.add(1, report({ membership: joins(0, 3, 100) }));
  ledger.add(0, report({ sent: [[0, 0, 0, us(9000)]], receipts: [receipt(0, 0, { delivered: 1 }, 9001)] }));
  ledger.add(1, report({ receipts: [receipt(0, 0, { delivered: 3 }, 9001)] }));
  assert.deepEqual(counts(ledger.summarize(check())), [1, 5, 4, 0, 0, 1]);
});

/**
 * Three broadcasts and a stray copy, over reports as they would arrive:
 * - B1 (agent 0 seq 0, group 0, 1500 ms): as in oneGap, agent 0's copies in two reports, one duplicated;
 * - B2 (agent 1 seq 0, group 1 of 2 + 2 members, 5000 ms): agent 0 misses 1, agent 1's copy is late;
 * - B3 (agent 0 seq 1, group 0, 8500 ms): one of agent 1's members left at 4000 ms and rejoined at
 *   9000 ms (not expected; its copy is unexpected), agent 1 misses 1 of 2 and the window passes the end;
 * - a copy of a broadcast whose send was never reported (agent 2 seq 0): unknownSender.
 */
function run(): BroadcastLedger {
  const ledger = new BroadcastLedger(false);
  ledger.add(1, report({ membership: [...joins(0, 3, 100), ...joins(1, 2, 120)] }));
  ledger.add(0, report({ membership: [...joins(0, 3, 100), ...joins(1, 2, 120)] }));
  ledger.add(0, report({ sent: [[0, 0, 0, us(1500)]], receipts: [receipt(0, 0, { delivered: 1 }, 1502)] }));
  ledger.add(1, report({ receipts: [receipt(0, 0, { delivered: 1 }, 1503), receipt(2, 0, { delivered: 1, duplicated: 1 }, 1600)] }));
  ledger.add(0, report({ receipts: [receipt(0, 0, { delivered: 1, duplicated: 1 }, 2100)] }));
  ledger.add(1, report({ membership: [[0, us(4000), -1]] }));
  // The receipt of B2 at agent 0 comes before B2's send is reported.
  ledger.add(0, report({ receipts: [receipt(1, 0, { delivered: 1 }, 5010, 1)] }));
  ledger.add(1, report({ sent: [[1, 0, 7, us(5000)]] }));
  ledger.add(1, report({ receipts: [receipt(1, 0, { late: 1 }, 7500, 1)] }));
  ledger.add(0, report({ sent: [[0, 1, 2, us(8500)]], receipts: [receipt(0, 1, { delivered: 2 }, 8510)] }));
  ledger.add(1, report({ membership: [[0, us(9000), 1]], receipts: [receipt(0, 1, { delivered: 1, unexpected: 1 }, 9001)] }));
  return ledger;
}

test('exact counts: per-agent membership, the sender on its own agent, late copies, unknown senders', () => {
  // Agent 1 saturated in [2000, 3000): B1's 2 missing copies there are unverified; B2's gap at the
  // healthy agent 0 is lost; B3's at agent 1 is unverified (window past the last interval).
  const summary = run().summarize(check([[1, 2]]));
  assert.deepEqual(counts(summary), [3, 12, 7, 1, 1, 3]);
  assert.deepEqual(
    [summary.duplicated, summary.unexpected, summary.unknownSender, summary.outOfOrder, summary.nonMember],
    [2, 1, 1, 0, 0],
  );
  assert.deepEqual(summary.groups, [
    { group: 0, sent: 2, expected: 9, delivered: 6, lost: 0, unverified: 3, late: 0, duplicated: 1 },
    { group: 1, sent: 1, expected: 3, delivered: 1, lost: 1, unverified: 0, late: 1, duplicated: 0 },
  ]);
  assert.equal(summary.firstMemberMs.count, 3);
  // Every expected copy is accounted for exactly once.
  assert.equal(summary.delivered + summary.late + summary.lost + summary.unverified, summary.expected);
  assert.deepEqual(counts(run().summarize()), [3, 12, 7, 1, 4, 0]);
});

test('per-group rows add up to the totals', () => {
  for (const summary of [run().summarize(check([[1, 2]])), run().summarize(check()), run().summarize()]) {
    for (const field of ['sent', 'expected', 'delivered', 'late', 'lost', 'unverified'] as const) {
      assert.equal(summary.groups.reduce((sum, group) => sum + group[field], 0), summary[field], field);
    }
  }
});

test('with includeSender the sender counts on its own agent', () => {
  const ledger = new BroadcastLedger(true);
  ledger.add(0, report({ membership: joins(0, 3, 100) }));
  ledger.add(1, report({ membership: joins(0, 3, 100) }));
  ledger.add(0, report({ sent: [[0, 0, 0, us(1500)]], receipts: [receipt(0, 0, { delivered: 2 }, 1502)] }));
  ledger.add(1, report({ receipts: [receipt(0, 0, { delivered: 3 }, 1503)] }));
  // Agent 0 expected 3 (sender included) and read 2: lost there, though agent 1 was saturated.
  assert.deepEqual(counts(ledger.summarize(check([[1, 2]]))), [1, 6, 5, 0, 1, 0]);
});

// ---------------------------------------------------------------- settling while the run goes on

interface Simulated {
  /** Summaries of a settling ledger and of one that keeps everything, fed the same reports. */
  readonly settled: BroadcastSummary;
  readonly kept: BroadcastSummary;
  /** The settling ledger's largest open-entry and membership-change counts over the run, and its end state. */
  readonly maxOpen: number;
  readonly maxMembership: number;
  readonly end: ReturnType<BroadcastLedger['stats']>;
  readonly sent: number;
}

/** One receipt row being built for one receiving agent and one broadcast in one interval. */
type Rows = Map<number, BroadcastReceipt>;

/**
 * `intervals` 1 s reports of three agents holding 60 users in six groups of
 * 10, nine broadcasts a second; copies delivered, late (within seconds),
 * very late (40–90 s: after their broadcast is settled), lost, duplicated,
 * to non-members and to users between a leave and a rejoin; agent 1
 * saturated now and then; agent 2 lost 50 s before the end (its last
 * sends never reported, its receivers silent).
 */
function simulate(intervals: number): Simulated {
  const rand = seededRandom(16);
  const agents = [0, 1, 2];
  const health = new Map<number, AgentIntervalHealth[]>(agents.map((agent) => [agent, []]));
  const settle = { agents, timeoutMs: 1000, intervalMs: 1000, saturated: () => saturationLookup(health) };
  const settling = new BroadcastLedger(false, settle);
  const keeping = new BroadcastLedger(false);
  const joinedAtUs = Array.from({ length: 60 }, () => us(100));
  const agentOf = (user: number): number => user % 3;
  const groupOf = (user: number): number => Math.floor(user / 10);
  const buckets = new Map<number, Rows[]>();
  const lostAt = intervals - 50;
  const seqs = [0, 0, 0];
  let maxOpen = 0;
  let maxMembership = 0;
  let sent = 0;
  const copy = (agent: number, atMs: number, key: [number, number, number], counts: { delivered?: number; late?: number; duplicated?: number; nonMember?: number; unexpected?: number }): void => {
    const interval = Math.floor(atMs / 1000);
    let rows = buckets.get(interval);
    if (rows === undefined) buckets.set(interval, (rows = agents.map((): Rows => new Map())));
    const id = key[0] * 1e6 + key[1];
    const row = rows[agent]!.get(id) ?? [key[0], key[1], 0, 0, 0, 0, 0, 0, 0, 0, key[2]];
    rows[agent]!.set(id, row);
    row[2] += counts.delivered ?? 0;
    row[3] += counts.late ?? 0;
    row[4] += counts.duplicated ?? 0;
    row[6] += counts.nonMember ?? 0;
    row[7] += counts.unexpected ?? 0;
    if ((counts.delivered ?? 0) + (counts.late ?? 0) > 0) {
      if (row[8] === 0 || us(atMs) < row[8]) row[8] = us(atMs);
      row[9] = Math.max(row[9], us(atMs));
    }
  };
  for (let interval = 0; interval < intervals; interval += 1) {
    const membership: MembershipChange[][] = agents.map(() => []);
    if (interval === 0) for (let user = 0; user < 60; user += 1) membership[agentOf(user)]!.push([groupOf(user), us(100), 1]);
    if (interval > 0 && rand() < 0.3) {
      const user = Math.floor(rand() * 60);
      const atMs = interval * 1000 + 1;
      membership[agentOf(user)]!.push([groupOf(user), us(atMs), joinedAtUs[user] === 0 ? 1 : -1]);
      joinedAtUs[user] = joinedAtUs[user] === 0 ? us(atMs) : 0;
    }
    const sends: SentBroadcast[][] = agents.map(() => []);
    for (const agent of agents) {
      if (agent === 2 && interval > lostAt) continue;
      for (let n = 0; n < 3; n += 1) {
        const sender = agent + 3 * Math.floor(rand() * 20);
        // Only members send (spear's flows `join` before they broadcast): the ledger leaves the sender out of its agent's count.
        if (joinedAtUs[sender] === 0) continue;
        const sentMs = interval * 1000 + 10 + Math.floor(rand() * 980);
        const key: [number, number, number] = [agent, seqs[agent]!, groupOf(sender)];
        seqs[agent]! += 1;
        sends[agent]!.push([groupOf(sender), key[1], sender, us(sentMs)]);
        for (let member = groupOf(sender) * 10; member < groupOf(sender) * 10 + 10; member += 1) {
          if (member === sender) continue;
          if (joinedAtUs[member] === 0 || joinedAtUs[member]! > us(sentMs)) {
            if (rand() < 0.5) copy(agentOf(member), sentMs + 5, key, { unexpected: 1 });
            continue;
          }
          const fate = rand();
          if (fate < 0.94) copy(agentOf(member), sentMs + 1 + Math.floor(rand() * 400), key, { delivered: 1 });
          else if (fate < 0.96) copy(agentOf(member), sentMs + 1200 + Math.floor(rand() * 4800), key, { late: 1 });
          else if (fate < 0.975) copy(agentOf(member), sentMs + 40_000 + Math.floor(rand() * 50_000), key, { late: 1 });
          else if (fate >= 0.99) {
            copy(agentOf(member), sentMs + 3, key, { delivered: 1 });
            copy(agentOf(member), sentMs + 9, key, { duplicated: 1 });
          }
        }
        if (rand() < 0.02) copy(agentOf(sender + 1), sentMs + 2, key, { nonMember: 1 });
      }
    }
    for (const agent of agents) {
      if (agent === 2 && interval >= lostAt) continue;
      const sessions = report({ sent: sends[agent], receipts: [...(buckets.get(interval)?.[agent]?.values() ?? [])], membership: membership[agent] });
      sent += sessions.sent.length;
      const startMs = T0 + interval * 1000;
      const saturated = agent === 1 && interval % 37 >= 5 && interval % 37 <= 6;
      health.get(agent)!.push({ agent, index: interval, startMs, endMs: startMs + 1000, ...(saturated ? busy : calm) });
      for (const ledger of [settling, keeping]) {
        ledger.add(agent, sessions);
        ledger.covered(agent, startMs + 1000);
      }
    }
    buckets.delete(interval);
    if (interval === lostAt + 5) settling.finished(2);
    maxOpen = Math.max(maxOpen, settling.stats().open);
    maxMembership = Math.max(maxMembership, settling.stats().membershipChanges);
  }
  for (const agent of agents) settling.finished(agent);
  const check = { saturated: saturationLookup(health), timeoutMs: 1000 };
  return { settled: settling.summarize(check), kept: keeping.summarize(check), maxOpen, maxMembership, end: settling.stats(), sent };
}

test('settling while the run goes on: the same summary as keeping every broadcast, with bounded open entries', () => {
  const run = simulate(600);
  assert.deepEqual(run.settled, run.kept);
  // The run exercises every path: lost, unverified, late, very late, unknown senders, churn.
  const { settled } = run;
  assert.ok(settled.lost > 0 && settled.unverified > 0 && settled.late > 0 && settled.duplicated > 0, JSON.stringify(counts(settled)));
  assert.ok(settled.unknownSender > 0 && settled.unexpected > 0 && settled.nonMember > 0);
  assert.equal(settled.sent, run.sent);
  // Nine sends a second stay open for their window plus the late horizon (33 s), a few intervals more.
  const horizonS = (1000 + lateHorizonMs(1000, 1000)) / 1000;
  assert.ok(run.maxOpen <= 9 * (horizonS + 3), `open entries peaked at ${run.maxOpen}`);
  assert.ok(run.end.settled > 0.9 * run.sent, `settled ${run.end.settled} of ${run.sent}`);
  // Membership: 60 joins and one change every ~3 s, folded up to the oldest open send.
  assert.ok(run.maxMembership <= 60 + 40, `membership changes peaked at ${run.maxMembership}`);
});

test('open entries stay flat however long the run: twice the intervals, the same peak', () => {
  const short = simulate(300);
  const long = simulate(900);
  assert.deepEqual(long.settled, long.kept);
  assert.ok(long.maxOpen <= short.maxOpen * 1.2 + 10, `${short.maxOpen} → ${long.maxOpen}`);
  assert.ok(long.maxMembership <= short.maxMembership + 20, `${short.maxMembership} → ${long.maxMembership}`);
});

/**
 * A settling ledger over agents 0 and 1 (timeout 2 s, 1 s intervals),
 * with oneGap's broadcast (agent 1 short of 2 copies) and the two agents'
 * health reported interval by interval up to `untilS` seconds.
 */
function settlingGap(options: { busy?: boolean; shortfallLimit?: number; shortfallKeepMs?: number } = {}): { ledger: BroadcastLedger; advance: (untilS: number) => void; check: () => ReceiverCheck } {
  const health = new Map<number, AgentIntervalHealth[]>([[0, []], [1, []]]);
  const ledger = new BroadcastLedger(false, { agents: [0, 1], timeoutMs, intervalMs: 1000, saturated: () => saturationLookup(health), shortfallLimit: options.shortfallLimit, shortfallKeepMs: options.shortfallKeepMs });
  ledger.add(0, report({ membership: joins(0, 3, 100) }));
  ledger.add(1, report({ membership: joins(0, 3, 100) }));
  ledger.add(0, report({ sent: [[0, 0, 0, us(1500)]], receipts: [receipt(0, 0, { delivered: 2 }, 1502)] }));
  ledger.add(1, report({ receipts: [receipt(0, 0, { delivered: 1 }, 1503)] }));
  let reported = 0;
  const advance = (untilS: number): void => {
    for (; reported < untilS; reported += 1) {
      for (const agent of [0, 1]) {
        const startMs = T0 + reported * 1000;
        health.get(agent)!.push({ agent, index: reported, startMs, endMs: startMs + 1000, ...(options.busy === true && agent === 1 && reported === 2 ? busy : calm) });
        ledger.covered(agent, startMs + 1000);
      }
    }
  };
  return { ledger, advance, check: () => ({ saturated: saturationLookup(health), timeoutMs }) };
}

test('a broadcast is settled once both agents covered its window plus the late horizon, and a very late copy moves lost to late exactly', () => {
  const { ledger, advance, check } = settlingGap();
  // Window ends at 3.5 s; the horizon is 32 s: not settled at 35 s, settled at 36 s.
  advance(35);
  assert.deepEqual(ledger.stats(), { open: 1, shortfalls: 0, membershipChanges: 0, settled: 0 });
  advance(36);
  assert.deepEqual(ledger.stats(), { open: 0, shortfalls: 1, membershipChanges: 0, settled: 1 });
  assert.deepEqual(counts(ledger.summarize(check())), [1, 5, 3, 0, 2, 0]);
  // Agent 1 reads one of its two missing copies at 60 s: one lost becomes late.
  advance(60);
  ledger.add(1, report({ receipts: [receipt(0, 0, { late: 1 }, 60_000)] }));
  let summary = ledger.summarize(check());
  assert.deepEqual(counts(summary), [1, 5, 3, 1, 1, 0]);
  assert.deepEqual(summary.groups, [{ group: 0, sent: 1, expected: 5, delivered: 3, lost: 1, unverified: 0, late: 1, duplicated: 0 }]);
  assert.equal(summary.lastMemberMs.max, 58_500); // 58.5 s from the send
  // Two more: one fills the last gap, the other is a surplus, counted late as it always was.
  ledger.add(1, report({ receipts: [receipt(0, 0, { late: 2, duplicated: 1 }, 61_000)] }));
  summary = ledger.summarize(check());
  assert.deepEqual(counts(summary), [1, 5, 3, 3, 0, 0]);
  assert.equal(summary.duplicated, 1);
  assert.equal(summary.groups[0]!.duplicated, 1);
  // The same run never settled gives the same answer.
  const kept = oneGap();
  kept.add(1, report({ receipts: [receipt(0, 0, { late: 1 }, 60_000)] }));
  kept.add(1, report({ receipts: [receipt(0, 0, { late: 2, duplicated: 1 }, 61_000)] }));
  assert.deepEqual(kept.summarize(check()), summary);
});

test('a very late copy at an agent saturated during the window moves unverified to late', () => {
  const { ledger, advance, check } = settlingGap({ busy: true });
  advance(40);
  assert.deepEqual(counts(ledger.summarize(check())), [1, 5, 3, 0, 0, 2]);
  ledger.add(1, report({ receipts: [receipt(0, 0, { late: 1 }, 39_000)] }));
  assert.deepEqual(counts(ledger.summarize(check())), [1, 5, 3, 1, 0, 1]);
});

test('a settled broadcast with nothing missing keeps nothing; a later copy of it is late, in the totals only', () => {
  const health = new Map<number, AgentIntervalHealth[]>([[0, []], [1, []]]);
  const ledger = new BroadcastLedger(false, { agents: [0, 1], timeoutMs, intervalMs: 1000, saturated: () => saturationLookup(health) });
  ledger.add(0, report({ membership: joins(0, 3, 100) }));
  ledger.add(1, report({ membership: joins(0, 3, 100) }));
  ledger.add(0, report({ sent: [[0, 0, 0, us(1500)]], receipts: [receipt(0, 0, { delivered: 2 }, 1502)] }));
  ledger.add(1, report({ receipts: [receipt(0, 0, { delivered: 3 }, 1503)] }));
  for (let index = 0; index < 40; index += 1) {
    for (const agent of [0, 1]) {
      health.get(agent)!.push({ agent, index, startMs: T0 + index * 1000, endMs: T0 + index * 1000 + 1000, ...calm });
      ledger.covered(agent, T0 + index * 1000 + 1000);
    }
  }
  assert.deepEqual(ledger.stats(), { open: 0, shortfalls: 0, membershipChanges: 0, settled: 1 });
  ledger.add(1, report({ receipts: [receipt(0, 0, { late: 1 }, 39_000)] }));
  const summary = ledger.summarize({ saturated: saturationLookup(health), timeoutMs });
  assert.deepEqual(counts(summary), [1, 5, 5, 1, 0, 0]);
  assert.equal(summary.groups[0]!.late, 0);
  assert.equal(summary.unknownSender, 0);
});

test('a sender that ended: copies of its unreported sends are unknownSender, before and after the end', () => {
  const health = new Map<number, AgentIntervalHealth[]>([[0, []], [1, []]]);
  const ledger = new BroadcastLedger(false, { agents: [0, 1], timeoutMs, intervalMs: 1000, saturated: () => saturationLookup(health) });
  ledger.add(0, report({ membership: joins(0, 3, 100) }));
  ledger.add(1, report({ membership: joins(0, 3, 100), sent: [[0, 0, 3, us(1000)]] }));
  // Agent 1's seq 1 and 2 were sent but never reported: agent 1 was lost.
  ledger.add(0, report({ receipts: [receipt(1, 0, { delivered: 3 }, 1001), receipt(1, 1, { delivered: 2, duplicated: 1 }, 1500)] }));
  ledger.finished(1);
  assert.equal(ledger.stats().open, 1);
  ledger.add(0, report({ receipts: [receipt(1, 2, { delivered: 1 }, 1700), receipt(9, 0, { late: 1 }, 1800)] }));
  const summary = ledger.summarize();
  assert.deepEqual([summary.sent, summary.delivered, summary.unknownSender, summary.duplicated], [1, 3, 4, 1]);
  assert.equal(ledger.stats().open, 1);
});

test('beyond the shortfall limit the oldest record is let go: its very late copy is late but no longer fills a gap', () => {
  const { ledger, advance, check } = settlingGap({ shortfallLimit: 1 });
  ledger.add(0, report({ sent: [[0, 1, 0, us(2500)]], receipts: [receipt(0, 1, { delivered: 2 }, 2502)] }));
  ledger.add(1, report({ receipts: [receipt(0, 1, { delivered: 2 }, 2503)] }));
  advance(40);
  assert.deepEqual(ledger.stats(), { open: 0, shortfalls: 1, membershipChanges: 0, settled: 2 });
  assert.deepEqual(counts(ledger.summarize(check())), [2, 10, 7, 0, 3, 0]);
  ledger.add(1, report({ receipts: [receipt(0, 0, { late: 1 }, 39_000), receipt(0, 1, { late: 1 }, 39_000)] }));
  // seq 0 was let go (late, still lost); seq 1 is kept (late, no longer lost).
  assert.deepEqual(counts(ledger.summarize(check())), [2, 10, 7, 2, 2, 0]);
});

test('a shortfall record is let go shortfallKeepMs after its broadcast was settled', () => {
  const { ledger, advance, check } = settlingGap({ shortfallKeepMs: 5000 });
  advance(40);
  assert.equal(ledger.stats().shortfalls, 1);
  // Coverage 41 s settles sends up to 7 s (41 − 2 − 32) and lets go of records sent before 2 s.
  advance(41);
  assert.equal(ledger.stats().shortfalls, 0);
  ledger.add(1, report({ receipts: [receipt(0, 0, { late: 1 }, 41_000)] }));
  const summary = ledger.summarize(check());
  assert.deepEqual(counts(summary), [1, 5, 3, 1, 2, 0]);
  // Its first/last-member times went into the totals when it was let go.
  assert.equal(summary.firstMemberMs.count, 1);
});
