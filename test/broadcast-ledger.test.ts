import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BroadcastLedger, type BroadcastSummary, type ReceiverCheck } from '../src/coordinator/broadcast-ledger.js';
import { saturationLookup, type AgentIntervalHealth } from '../src/metrics/generator-verdict.js';
import { emptySessionCounters } from '../src/metrics/session-recorder.js';
import type { AgentHealth, BroadcastReceipt, MembershipChange, SentBroadcast, SessionReport } from '../src/wire/messages.js';

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
    receipts: parts.receipts ?? [],
    membership: parts.membership ?? [],
  };
}

/** A receipt row: first copies in time and late, plus duplicates and copies to late joiners. */
function receipt(sender: number, seq: number, counts: { delivered?: number; late?: number; duplicated?: number; unexpected?: number }, atMs: number): BroadcastReceipt {
  return [sender, seq, counts.delivered ?? 0, counts.late ?? 0, counts.duplicated ?? 0, 0, 0, counts.unexpected ?? 0, us(atMs), us(atMs)];
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
  ledger.add(0, report({ receipts: [receipt(1, 0, { delivered: 1 }, 5010)] }));
  ledger.add(1, report({ sent: [[1, 0, 7, us(5000)]] }));
  ledger.add(1, report({ receipts: [receipt(1, 0, { late: 1 }, 7500)] }));
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
