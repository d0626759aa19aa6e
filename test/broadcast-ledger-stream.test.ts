import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BroadcastLedger, type BroadcastSummary, type ReceiverCheck } from '../src/coordinator/broadcast-ledger.js';
import type { SaturationLookup } from '../src/metrics/generator-verdict.js';
import { emptySessionCounters } from '../src/metrics/session-recorder.js';
import type { BroadcastReceipt, MembershipChange, SentBroadcast, SessionReport } from '../src/wire/messages.js';
import { ReceiptRows } from '../src/wire/receipt-rows.js';
import { seededRandom } from './support/response-primitives.js';

// Seeded random report streams through the ledger, compared with a small
// model of its accounting that keeps every broadcast (what the ledger did
// before its records went into typed arrays), and, settling, with counts the
// previous ledger gave for the same streams. The streams take every path the
// records have: receipts before their send, sends reported late or twice with
// another group, groups over more than 16 agents, more than 65,535 copies at
// one agent, negative counts, membership changes reported late, agents that
// are not in the run, seqs far beyond the sent ones, more than 1,024
// broadcasts open at once.

const T0 = 1_700_000_000_000;
const us = (ms: number): number => (T0 + ms) * 1000;
/** A saturation lookup that answers from the agent and the second the window starts in: pure, so every ledger sees the same health. */
const saturated: SaturationLookup = (agent, fromMs) => (agent * 7 + Math.floor(fromMs / 1000)) % 9 === 0;

interface Stream {
  readonly agents: number[];
  readonly timeoutMs: number;
  /** Per interval, each reporting agent's report, in arrival order. */
  readonly intervals: [number, SessionReport][][];
  /** Agents that end after an interval: interval index → agent. */
  readonly endings: Map<number, number>;
}

function stream(seed: number, agentCount: number, intervalCount: number): Stream {
  const rand = seededRandom(seed);
  const pick = (n: number): number => Math.floor(rand() * n);
  const agents = Array.from({ length: agentCount }, (_, index) => index * 2 + 1);
  const stranger = 999;
  const groups = 2 + pick(3);
  const timeoutMs = 1000;
  const seqs = new Map<number, number>();
  const later: { at: number; agent: number; sent?: SentBroadcast; receipt?: BroadcastReceipt }[] = [];
  const intervals: [number, SessionReport][][] = [];
  const endings = new Map<number, number>([[Math.floor(intervalCount * 0.7), agents[1]!]]);
  const ended = new Set<number>();
  for (let interval = 0; interval < intervalCount; interval += 1) {
    const order = [...agents, ...(rand() < 0.1 ? [stranger] : [])].filter((agent) => !ended.has(agent)).sort(() => rand() - 0.5);
    const reports: [number, SessionReport][] = [];
    for (const agent of order) {
      const startMs = interval * 1000;
      const membership: MembershipChange[] = [];
      const joins = interval === 0 ? 2 + pick(4) : rand() < 0.25 ? 1 : 0;
      for (let n = 0; n < joins; n += 1) {
        const backMs = rand() < 0.1 ? pick(30_000) : 0;
        membership.push([pick(groups), us(startMs + pick(1000) - backMs), interval === 0 || rand() < 0.6 ? 1 : -1]);
      }
      const sent: SentBroadcast[] = [];
      for (let n = pick(4); n > 0; n -= 1) {
        const seq = seqs.get(agent) ?? 0;
        seqs.set(agent, seq + 1);
        const sentMs = startMs + pick(1000);
        const row: SentBroadcast = [pick(groups), seq, pick(40), us(sentMs)];
        if (rand() < 0.15) later.push({ at: interval + 1 + pick(3), agent, sent: row });
        else sent.push(row);
        if (rand() < 0.03) later.push({ at: interval + pick(3), agent, sent: [pick(groups), seq, 0, us(sentMs + 10)] });
        for (const receiver of [...agents, ...(rand() < 0.1 ? [stranger] : [])]) {
          if (rand() < 0.1) continue;
          const delayMs = rand() < 0.85 ? pick(900) : rand() < 0.6 ? 1500 + pick(5000) : 35_000 + pick(40_000);
          const atMs = sentMs + delayMs;
          // Now and then a count past a 16-bit cell, taken back by a later row; or a negative count.
          const huge = rand() < 0.01 ? 70_000 : 0;
          const delivered = huge + pick(3) - (rand() < 0.03 ? 4 : 0);
          // The group as the stamp names it: now and then not the send's (a server rewriting payloads).
          // Chosen without drawing from rand, so the streams (and the pinned counts below) stay as they were.
          const group = (seq + receiver) % 17 === 3 ? (row[0] + 1) % groups : row[0];
          const receipt: BroadcastReceipt = [agent, seq, delivered, delayMs > timeoutMs ? pick(3) : 0, pick(2), pick(2), pick(2), pick(2), us(atMs), us(atMs + pick(20)), group];
          later.push({ at: Math.floor(atMs / 1000), agent: receiver, receipt });
          if (huge > 0) later.push({ at: Math.floor(atMs / 1000) + 1, agent: receiver, receipt: [agent, seq, -huge - 1, 0, 0, 0, 0, 0, 0, 0, group] });
        }
      }
      const receipts: BroadcastReceipt[] = [];
      if (rand() < 0.05) receipts.push([stranger + 1, pick(4), 1, 0, 0, 0, 0, 0, us(startMs), us(startMs), interval % groups]);
      // A seq far beyond any sent (a misbehaving agent): outside its sender's window.
      if (rand() < 0.02) receipts.push([agents[pick(agentCount)]!, 100_000 + pick(5), 1, 0, 0, 0, 0, 0, us(startMs), us(startMs), interval % groups]);
      for (let index = later.length - 1; index >= 0; index -= 1) {
        const item = later[index]!;
        if (item.at > interval || item.agent !== agent) continue;
        later.splice(index, 1);
        if (item.sent !== undefined) sent.push(item.sent);
        if (item.receipt !== undefined) receipts.push(item.receipt);
      }
      sent.sort((a, b) => a[1] - b[1]);
      // Straight to the ledger, not through the wire: its u32 columns would refuse the negative counts above.
      reports.push([agent, { counters: emptySessionCounters(), histograms: { connect: '', reply: '', delivery: '' }, sent, receipts: ReceiptRows.of(receipts), membership }]);
    }
    intervals.push(reports);
    const ending = endings.get(interval);
    if (ending !== undefined) ended.add(ending);
  }
  return { agents, timeoutMs, intervals, endings };
}

/** Feeds `input` to a ledger; settling ones also hear coverage and endings. */
function feed(input: Stream, ledger: BroadcastLedger, settling: boolean): void {
  input.intervals.forEach((reports, interval) => {
    for (const [agent, report] of reports) {
      ledger.add(agent, report);
      if (settling) ledger.covered(agent, T0 + interval * 1000 + 1000 + (agent % 3));
    }
    const ending = input.endings.get(interval);
    if (settling && ending !== undefined) ledger.finished(ending);
  });
  if (settling) for (const agent of input.agents) ledger.finished(agent);
}

type Counts = Omit<BroadcastSummary, 'firstMemberMs' | 'lastMemberMs' | 'groups'> & { firstCount: number; groups: BroadcastSummary['groups'] };

function countsOf(summary: BroadcastSummary): Counts {
  const { firstMemberMs, lastMemberMs, groups, ...rest } = summary;
  return { ...rest, firstCount: firstMemberMs.count, groups };
}

interface ModelEntry { group: number; senderSlot: number; sentUs: number; counts: number[]; firstUs: number; received: Map<number, number> }

/** Every broadcast, every membership change and every copy by agent, as a ledger without SettleOptions books them, kept plainly. */
interface ModelBook {
  readonly agentOf: number[];
  readonly entries: Map<number, ModelEntry>;
  /** Group → agent slot → [atUs, delta] changes. */
  readonly changes: Map<number, Map<number, [number, number][]>>;
  /** The six counts of receipts for broadcasts no longer open (not open, seq at most the sender's last reported). */
  readonly afterSettling: number[];
}

const countNames = ['delivered', 'late', 'duplicated', 'outOfOrder', 'nonMember', 'unexpected'] as const;

function modelBook(input: Stream): ModelBook {
  const book: ModelBook = { agentOf: [], entries: new Map(), changes: new Map(), afterSettling: [0, 0, 0, 0, 0, 0] };
  const slots = new Map<number, number>();
  const lastSent = new Map<number, number>();
  const entry = (key: number): ModelEntry => {
    if (!book.entries.has(key)) book.entries.set(key, { group: -1, senderSlot: -1, sentUs: -1, counts: [0, 0, 0, 0, 0, 0], firstUs: 0, received: new Map() });
    return book.entries.get(key)!;
  };
  for (const [agent, report] of input.intervals.flat()) {
    if (!slots.has(agent)) slots.set(agent, book.agentOf.push(agent) - 1);
    const slot = slots.get(agent)!;
    for (const [group, seq, , sentUs] of report.sent) {
      Object.assign(entry(agent * 2 ** 32 + seq), { group, senderSlot: slot, sentUs });
      lastSent.set(agent, Math.max(seq, lastSent.get(agent) ?? -1));
    }
    for (let row = 0; row < report.receipts.count; row += 1) {
      const receipt = report.receipts.row(row);
      const key = receipt[0] * 2 ** 32 + receipt[1];
      const counts = book.entries.has(key) || receipt[1] > (lastSent.get(receipt[0]) ?? -1) ? entry(key).counts : book.afterSettling;
      countNames.forEach((_, index) => (counts[index] = counts[index]! + receipt[2 + index]!));
      if (counts === book.afterSettling) continue;
      const booked = entry(key);
      if (receipt[8] > 0 && (booked.firstUs === 0 || receipt[8] < booked.firstUs)) booked.firstUs = receipt[8];
      booked.received.set(slot, (booked.received.get(slot) ?? 0) + receipt[2] + receipt[3]);
    }
    for (const [group, atUs, delta] of report.membership) {
      if (!book.changes.has(group)) book.changes.set(group, new Map());
      const bySlot = book.changes.get(group)!;
      bySlot.set(slot, [...(bySlot.get(slot) ?? []), [atUs, delta]]);
    }
  }
  return book;
}

/** Expected, lost and unverified copies of one sent broadcast, agent by agent. */
function modelSplit(book: ModelBook, entry: ModelEntry, includeSender: boolean, check: ReceiverCheck): { expected: number; lost: number; unverified: number } {
  const bySlot = book.changes.get(entry.group) ?? new Map<number, [number, number][]>();
  const split = { expected: 0, lost: 0, unverified: 0 };
  for (const slot of new Set([...bySlot.keys(), ...entry.received.keys()])) {
    const joined = (bySlot.get(slot) ?? []).filter(([atUs]) => atUs <= entry.sentUs).reduce((sum, [, delta]) => sum + delta, 0);
    const wanted = Math.max(0, slot === entry.senderSlot && !includeSender ? joined - 1 : joined);
    const missing = Math.max(0, wanted - (entry.received.get(slot) ?? 0));
    split.expected += wanted;
    if (missing > 0 && check.saturated(book.agentOf[slot]!, entry.sentUs / 1000, entry.sentUs / 1000 + check.timeoutMs)) split.unverified += missing;
    else split.lost += missing;
  }
  return split;
}

/** The summary counts of a ledger without SettleOptions fed `input`, from the plain model. */
function model(input: Stream, includeSender: boolean, check: ReceiverCheck): Counts {
  const book = modelBook(input);
  const totals = { sent: 0, expected: 0, delivered: 0, lost: 0, unverified: 0, late: 0, duplicated: 0, outOfOrder: 0, nonMember: 0, unexpected: 0, unknownSender: 0, firstCount: 0 };
  countNames.forEach((name, index) => (totals[name] += book.afterSettling[index]!));
  const rows = new Map<number, { group: number; sent: number; expected: number; delivered: number; lost: number; unverified: number; late: number; duplicated: number }>();
  for (const entry of book.entries.values()) {
    const [delivered, late, duplicated] = entry.counts as [number, number, number];
    countNames.slice(3).forEach((name, index) => (totals[name] += entry.counts[3 + index]!));
    if (entry.sentUs < 0) {
      totals.unknownSender += delivered + late;
      totals.duplicated += duplicated;
      continue;
    }
    const split = modelSplit(book, entry, includeSender, check);
    if (!rows.has(entry.group)) rows.set(entry.group, { group: entry.group, sent: 0, expected: 0, delivered: 0, lost: 0, unverified: 0, late: 0, duplicated: 0 });
    for (const into of [totals, rows.get(entry.group)!]) {
      Object.assign(into, { sent: into.sent + 1, expected: into.expected + split.expected, lost: into.lost + split.lost, unverified: into.unverified + split.unverified });
      Object.assign(into, { delivered: into.delivered + delivered, late: into.late + late, duplicated: into.duplicated + duplicated });
    }
    if (entry.firstUs > 0) totals.firstCount += 1;
  }
  return { ...totals, groups: [...rows.values()].sort((a, b) => a.group - b.group) };
}

test('random streams: the ledger without settling gives the plain model\'s counts exactly', () => {
  let mostOpen = 0;
  for (const [seed, agents] of [[1, 3], [2, 20], [3, 7], [4, 24]] as const) {
    const input = stream(seed, agents, 120);
    for (const includeSender of [false, true]) {
      const check = { saturated, timeoutMs: input.timeoutMs };
      const ledger = new BroadcastLedger(includeSender);
      feed(input, ledger, false);
      const summary = ledger.summarize(check);
      assert.deepEqual(countsOf(summary), model(input, includeSender, check), `seed ${seed}, ${agents} agents, includeSender ${includeSender}`);
      assert.ok(summary.lost > 0 && summary.unverified > 0 && summary.unknownSender > 0 && summary.late > 0, `seed ${seed} takes every path`);
      mostOpen = Math.max(mostOpen, ledger.stats().open);
    }
  }
  assert.ok(mostOpen > 1024, `${mostOpen} open at most: the records must grow past their first pool`);
});

/** Counts the ledger gave for these streams before its records went into typed arrays (as committed in b3c608b), settling as a run does. */
const settledBefore: Record<string, number[]> = {
  // [sent, expected, delivered, late, lost, unverified, duplicated, outOfOrder, nonMember, unexpected, unknownSender, first/last-member count]
  '5/4': [1159, 14477, 73437, 496, 80704, 1320, 2018, 2065, 1981, 2000, 67, 1117],
  '6/20': [5921, 404994, 370407, 14212, 1071494, 177677, 51774, 51755, 51577, 51810, 318, 5851],
};

test('random streams, settling: the same counts as the ledger that kept a slot per agent for every broadcast', () => {
  for (const [seed, agents] of [[5, 4], [6, 20]] as const) {
    const input = stream(seed, agents, 200);
    const ledger = new BroadcastLedger(false, { agents: input.agents, timeoutMs: input.timeoutMs, intervalMs: 1000, saturated: () => saturated, shortfallLimit: 50 });
    feed(input, ledger, true);
    const summary = ledger.summarize({ saturated, timeoutMs: input.timeoutMs });
    const counts = [summary.sent, summary.expected, summary.delivered, summary.late, summary.lost, summary.unverified, summary.duplicated, summary.outOfOrder, summary.nonMember, summary.unexpected, summary.unknownSender, summary.firstMemberMs.count];
    assert.deepEqual(counts, settledBefore[`${seed}/${agents}`], `seed ${seed}, ${agents} agents: ${JSON.stringify(counts)}`);
    assert.ok(ledger.stats().settled > 0.8 * summary.sent);
  }
});
