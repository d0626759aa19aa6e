import type { SaturationLookup } from '../metrics/generator-verdict.js';
import { broadcastKey } from '../sessions/broadcast-tracker.js';
import type { BroadcastReceipt, SentBroadcast, SessionReport } from '../wire/messages.js';
import { Shortfalls } from './broadcast-shortfalls.js';
import { BroadcastTally, countsOf, type BroadcastSummary, type Entry, type Split } from './broadcast-tally.js';
import { MemberTimeline } from './member-timeline.js';
import { lateHorizonMs, SettleSchedule, type SettleOptions } from './settle-schedule.js';

export type { BroadcastSummary, GroupBroadcasts } from './broadcast-tally.js';
export { lateHorizonMs, type SettleOptions } from './settle-schedule.js';

/** How to tell a copy spear could not read from one the server never sent. */
export interface ReceiverCheck {
  /** Whether a receiving agent's load thread was saturated at any moment of a span. */
  readonly saturated: SaturationLookup;
  /** broadcast.timeout (ms): the window after each send the receiver must have been healthy for a missing copy to be lost. */
  readonly timeoutMs: number;
}

/** What the ledger holds now, for tests and soak benches. */
export interface LedgerStats {
  /** Broadcasts booked one by one: not yet settled, or whose send is not reported yet. */
  readonly open: number;
  /** Settled broadcasts still short of copies, kept compact. */
  readonly shortfalls: number;
  /** Membership changes kept, all groups and agents. */
  readonly membershipChanges: number;
  /** Broadcasts settled into the running totals so far. */
  readonly settled: number;
}

/**
 * The coordinator's broadcast book: every send (from its sender's agent),
 * every agent's receipts, and every agent's membership changes, all in the
 * coordinator's clock. Only here is group membership known across agents,
 * so only here can "expected" and "lost" be computed: per broadcast and per
 * receiving agent, from the members joined on that agent at the send time.
 *
 * With SettleOptions, broadcasts are settled while the run goes on: once
 * every agent still running has reported intervals (and so their health)
 * past a broadcast's window plus the late horizon, its counts go into
 * running totals and the broadcast is forgotten, keeping only a compact
 * record when copies were missing; membership history is folded up to
 * the oldest send still open. Memory then depends on the send rate times
 * the horizon, not on the run's length. The one count settling can move:
 * a copy arriving after its broadcast was settled with nothing missing, or
 * after its compact record was let go, counts in the totals' delivered/late
 * but in no group's row (its group is forgotten). Without SettleOptions
 * everything is kept until `summarize`. Single-threaded; nothing here blocks.
 */
export class BroadcastLedger {
  readonly #includeSender: boolean;
  readonly #settle: SettleOptions | undefined;
  /** Settling only: how far agents reported, and the reported sends not yet settled. */
  readonly #schedule: SettleSchedule | undefined;
  readonly #entries = new Map<number, Entry>();
  /** Agent id → slot (dense, in order of first report), and back. */
  readonly #slots = new Map<number, number>();
  readonly #agents: number[] = [];
  /** Group → per agent slot, that agent's members' joins and leaves. */
  readonly #membership = new Map<number, (MemberTimeline | undefined)[]>();
  readonly #tally = new BroadcastTally();
  readonly #shortfalls: Shortfalls;
  /** Settling only: per sender agent, keys of broadcasts received whose send is not reported yet. */
  readonly #unsent = new Map<number, Set<number>>();
  /** Per sender agent, the highest seq whose send was reported (seqs are reported in order). */
  readonly #lastSentSeq = new Map<number, number>();
  #settled = 0;
  #seen = false;

  constructor(includeSender: boolean, settle?: SettleOptions) {
    this.#includeSender = includeSender;
    this.#settle = settle;
    this.#schedule = settle === undefined ? undefined : new SettleSchedule(settle.agents);
    this.#shortfalls = new Shortfalls(this.#tally, settle?.shortfallLimit ?? 100_000);
  }

  /** Books one interval report of agent `agentId`. Cheap: no per-user state is kept. */
  add(agentId: number, report: SessionReport): void {
    const slot = this.#slot(agentId);
    for (const sent of report.sent) this.#sent(agentId, slot, sent);
    for (const receipt of report.receipts) this.#receipt(slot, receipt);
    for (const [group, atUs, delta] of report.membership) this.#timeline(group, slot).add(atUs, delta);
  }

  /**
   * Agent `agentId` has reported every interval up to `endMs` (its clock),
   * health included: call after its report went to `add` and to the
   * merger. Settles what every running agent now covers (with
   * SettleOptions; otherwise does nothing).
   */
  covered(agentId: number, endMs: number): void {
    const reachedMs = this.#schedule?.cover(agentId, endMs);
    if (reachedMs !== undefined) this.#settleCovered(reachedMs);
  }

  /**
   * Agent `agentId` ended (done, lost or failed): it reports nothing more,
   * so settling no longer waits for it, and broadcasts it sent whose send
   * was never reported are its unknown-sender copies from now on.
   */
  finished(agentId: number): void {
    if (this.#schedule === undefined) return;
    const reachedMs = this.#schedule.finish(agentId);
    for (const key of this.#unsent.get(agentId) ?? []) {
      const entry = this.#entries.get(key);
      if (entry !== undefined) this.#tally.addUnknownSender(entry);
      this.#entries.delete(key);
    }
    this.#unsent.delete(agentId);
    if (reachedMs !== undefined) this.#settleCovered(reachedMs);
  }

  /** True when no broadcast was sent or received. */
  get empty(): boolean {
    return !this.#seen;
  }

  stats(): LedgerStats {
    let membershipChanges = 0;
    for (const timelines of this.#membership.values()) for (const timeline of timelines) membershipChanges += timeline?.size ?? 0;
    return { open: this.#entries.size, shortfalls: this.#shortfalls.size, membershipChanges, settled: this.#settled };
  }

  /**
   * The run's accounting: the settled totals plus every broadcast still
   * open, split with `check`. A copy missing at a receiving agent saturated
   * during its window is `unverified`; without `check`, every missing copy
   * of an open broadcast is `lost`. Settled broadcasts were split at
   * settling time with SettleOptions.saturated (the same health; agent clock
   * offsets as they were then). Does not change the ledger.
   */
  summarize(check?: ReceiverCheck): BroadcastSummary {
    const tally = this.#tally.clone();
    this.#shortfalls.addTimesTo(tally);
    const split: Split = { expected: 0, lost: 0, unverified: 0 };
    for (const entry of this.#entries.values()) {
      if (entry.sentUs < 0) {
        tally.addUnknownSender(entry);
        continue;
      }
      this.#split(entry, check, split);
      tally.addBroadcast(entry, split, true);
    }
    return tally.summary();
  }

  #sent(agentId: number, slot: number, [group, seq, , sentUs]: SentBroadcast): void {
    this.#seen = true;
    const key = broadcastKey(agentId, seq);
    const entry = this.#entries.get(key) ?? this.#open(key);
    entry.group = group;
    entry.senderSlot = slot;
    entry.sentUs = sentUs;
    this.#lastSentSeq.set(agentId, Math.max(seq, this.#lastSentSeq.get(agentId) ?? -1));
    if (this.#schedule === undefined) return;
    this.#unsent.get(agentId)?.delete(key);
    this.#schedule.queue(agentId, key);
  }

  /**
   * Books one receipt row. Subtleness: a broadcast no longer open was either
   * settled (its send was reported: its seq is at most its sender's last
   * reported one) and its copies count after settling, or its send is not
   * reported yet and it opens here, unless its sender cannot report it any
   * more (ended, or no agent of this run): unknown sender.
   */
  #receipt(slot: number, receipt: BroadcastReceipt): void {
    this.#seen = true;
    const [agent, seq, delivered, late, duplicated, outOfOrder, nonMember, unexpected, firstUs, lastUs] = receipt;
    const key = broadcastKey(agent, seq);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      if (this.#shortfalls.receive(key, slot, receipt)) return;
      if (seq <= (this.#lastSentSeq.get(agent) ?? -1)) {
        this.#tally.addAfterSettling(undefined, receipt, { lost: 0, unverified: 0 });
        return;
      }
      if (this.#schedule !== undefined && !this.#schedule.reporting(agent)) {
        this.#tally.addUnknownSender(countsOf(receipt));
        return;
      }
      entry = this.#open(key);
      if (this.#schedule !== undefined) {
        let unsent = this.#unsent.get(agent);
        if (unsent === undefined) this.#unsent.set(agent, (unsent = new Set()));
        unsent.add(key);
      }
    }
    entry.delivered += delivered;
    entry.late += late;
    entry.duplicated += duplicated;
    entry.outOfOrder += outOfOrder;
    entry.nonMember += nonMember;
    entry.unexpected += unexpected;
    if (firstUs > 0 && (entry.firstUs === 0 || firstUs < entry.firstUs)) entry.firstUs = firstUs;
    if (lastUs > entry.lastUs) entry.lastUs = lastUs;
    while (entry.received.length <= slot) entry.received.push(0);
    entry.received[slot] = entry.received[slot]! + delivered + late;
  }

  /**
   * One settling pass, once every running agent has covered `reachedMs`:
   * settles every reported send whose window plus the late horizon that
   * covers, then folds membership history no open or future send can ask about.
   */
  #settleCovered(reachedMs: number): void {
    const settle = this.#settle;
    if (settle === undefined) return;
    const horizonMs = lateHorizonMs(settle.timeoutMs, settle.intervalMs);
    const settleUntilUs = (reachedMs - settle.timeoutMs - horizonMs) * 1000;
    this.#shortfalls.letGoBefore(settleUntilUs - (settle.shortfallKeepMs ?? 600_000) * 1000);
    let check: ReceiverCheck | undefined;
    let oldestOpenUs = Number.POSITIVE_INFINITY;
    this.#schedule?.drain((key) => {
      const entry = this.#entries.get(key);
      if (entry === undefined) return true;
      if (entry.sentUs > settleUntilUs) {
        oldestOpenUs = Math.min(oldestOpenUs, entry.sentUs);
        return false;
      }
      this.#settleEntry(key, entry, (check ??= { saturated: settle.saturated(), timeoutMs: settle.timeoutMs }));
      return true;
    });
    // Sends not reported yet are newer than their sender's coverage; a clock resync may move
    // one send a little before the one queued ahead of it: a horizon and an interval of slack.
    const forgetBeforeUs = (Math.min(oldestOpenUs / 1000, reachedMs - horizonMs) - settle.intervalMs) * 1000;
    for (const timelines of this.#membership.values()) for (const timeline of timelines) timeline?.forgetBefore(forgetBeforeUs);
  }

  /** Adds one broadcast to the running totals and forgets it, keeping a compact record when copies were missing. */
  #settleEntry(key: number, entry: Entry, check: ReceiverCheck): void {
    const split: Split = { expected: 0, lost: 0, unverified: 0 };
    const missing = new Array<number>(this.#agents.length).fill(0);
    this.#split(entry, check, split, missing);
    const short = split.lost + split.unverified > 0;
    this.#tally.addBroadcast(entry, split, !short);
    if (short) this.#shortfalls.keep(key, entry.group, entry, missing);
    this.#entries.delete(key);
    this.#settled += 1;
  }

  /**
   * Splits one broadcast's expected copies by receiving agent into `into`
   * (and, given `missing`, each agent's missing copies: positive when
   * lost, negative when unverified). Subtleness: each agent is settled on
   * its own (a surplus at one agent never hides a gap at another), and the
   * sender is left out of its own agent's members when
   * broadcast.includeSender is false.
   */
  #split(entry: Entry, check: ReceiverCheck | undefined, into: Split, missingBySlot?: number[]): void {
    into.expected = 0;
    into.lost = 0;
    into.unverified = 0;
    const timelines = this.#membership.get(entry.group) ?? [];
    const slots = Math.max(timelines.length, entry.received.length);
    for (let slot = 0; slot < slots; slot += 1) {
      const members = timelines[slot]?.at(entry.sentUs) ?? 0;
      const expected = Math.max(0, slot === entry.senderSlot && !this.#includeSender ? members - 1 : members);
      const missing = Math.max(0, expected - (entry.received[slot] ?? 0));
      into.expected += expected;
      if (missing === 0) continue;
      const sentMs = entry.sentUs / 1000;
      const unverified = check !== undefined && check.saturated(this.#agents[slot]!, sentMs, sentMs + check.timeoutMs);
      if (unverified) into.unverified += missing;
      else into.lost += missing;
      if (missingBySlot !== undefined) missingBySlot[slot] = unverified ? -missing : missing;
    }
  }

  #slot(agentId: number): number {
    let slot = this.#slots.get(agentId);
    if (slot === undefined) {
      slot = this.#agents.length;
      this.#slots.set(agentId, slot);
      this.#agents.push(agentId);
    }
    return slot;
  }

  #timeline(group: number, slot: number): MemberTimeline {
    let timelines = this.#membership.get(group);
    if (timelines === undefined) this.#membership.set(group, (timelines = []));
    while (timelines.length <= slot) timelines.push(undefined);
    return (timelines[slot] ??= new MemberTimeline());
  }

  #open(key: number): Entry {
    // A literal (no spread) and received sized to the run's agents: one broadcast costs ~290 bytes, not ~430.
    const received = this.#settle === undefined ? [] : new Array<number>(this.#settle.agents.length).fill(0);
    const entry: Entry = { group: -1, senderSlot: -1, sentUs: -1, delivered: 0, late: 0, duplicated: 0, outOfOrder: 0, nonMember: 0, unexpected: 0, firstUs: 0, lastUs: 0, received };
    this.#entries.set(key, entry);
    return entry;
  }
}
