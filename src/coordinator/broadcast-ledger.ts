import type { SaturationLookup } from '../metrics/generator-verdict.js';
import { broadcastKey } from '../sessions/broadcast-tracker.js';
import type { SentBroadcast, SessionReport } from '../wire/messages.js';
import { receiptColumn as column, type ReceiptRows } from '../wire/receipt-rows.js';
import { BroadcastGroups } from './broadcast-groups.js';
import { OpenBroadcasts } from './broadcast-open.js';
import { ReceivedCopies } from './broadcast-received.js';
import { BroadcastSplit } from './broadcast-split.js';
import { Shortfalls } from './broadcast-shortfalls.js';
import { BroadcastTally, bookedBroadcast, countsOf, type BroadcastSummary, type Split } from './broadcast-tally.js';
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
 * the horizon, not on the run's length: per open broadcast a fixed row
 * (OpenBroadcasts) and a 16-bit count per agent holding members of its
 * group (ReceivedCopies: at most the group's size, never the run's agent
 * count), so ~330 bytes at 500 agents with groups of 100 where a slot per
 * agent cost 4 KB. The one count settling can move:
 * a copy arriving after its broadcast was settled with nothing missing, or
 * after its compact record was let go, counts in the totals' delivered/late
 * but in no group's row (its group is forgotten). Without SettleOptions
 * everything is kept until `summarize`. Counts are exact for the whole
 * numbers agents report (an agent's copies are summed in two parts, see
 * ReceivedCopies). Single-threaded; nothing here blocks.
 */
export class BroadcastLedger {
  readonly #settle: SettleOptions | undefined;
  /** Settling only: how far agents reported, and the reported sends not yet settled. */
  readonly #schedule: SettleSchedule | undefined;
  readonly #open = new OpenBroadcasts();
  readonly #received = new ReceivedCopies();
  /** Agent id → slot (dense, in order of first report), and back. */
  readonly #slots = new Map<number, number>();
  readonly #agents: number[] = [];
  readonly #groups = new BroadcastGroups();
  readonly #tally = new BroadcastTally();
  readonly #shortfalls: Shortfalls;
  readonly #split: BroadcastSplit;
  /** Scratch for settling one broadcast: its split, and its missing copies as [slot, count] pairs (empty between uses). */
  readonly #splitInto: Split = { expected: 0, lost: 0, unverified: 0 };
  readonly #missing: number[] = [];
  /** A reused view of one open broadcast for the tally. */
  readonly #view = bookedBroadcast();
  #settled = 0;
  #seen = false;

  constructor(includeSender: boolean, settle?: SettleOptions) {
    this.#settle = settle;
    this.#schedule = settle === undefined ? undefined : new SettleSchedule(settle.agents);
    this.#shortfalls = new Shortfalls(this.#tally, settle?.shortfallLimit ?? 100_000);
    this.#split = new BroadcastSplit(this.#open, this.#received, this.#groups, this.#agents, includeSender);
  }

  /** Books one interval report of agent `agentId`. Cheap: no per-user state is kept, and a receipt row allocates nothing. */
  add(agentId: number, report: SessionReport): void {
    const slot = this.#slot(agentId);
    for (const sent of report.sent) this.#sent(agentId, slot, sent);
    const receipts = report.receipts;
    for (let row = 0; row < receipts.count; row += 1) this.#receipt(slot, receipts, row);
    for (const [group, atUs, delta] of report.membership) this.#groups.change(group, slot, atUs, delta);
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
    this.#open.forEachUnsent(agentId, (record) => {
      this.#tally.addUnknownSender(this.#open.view(record, this.#view));
      this.#close(record);
    });
    if (reachedMs !== undefined) this.#settleCovered(reachedMs);
  }

  /** True when no broadcast was sent or received. */
  get empty(): boolean {
    return !this.#seen;
  }

  stats(): LedgerStats {
    return { open: this.#open.size, shortfalls: this.#shortfalls.size, membershipChanges: this.#groups.changes, settled: this.#settled };
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
    this.#open.forEach((record) => {
      const entry = this.#open.view(record, this.#view);
      if (entry.sentUs < 0) {
        tally.addUnknownSender(entry);
        return;
      }
      this.#split.split(record, check, split);
      tally.addBroadcast(entry, split, true);
    });
    return tally.summary();
  }

  #sent(agentId: number, slot: number, [group, seq, , sentUs]: SentBroadcast): void {
    this.#seen = true;
    let record = this.#open.find(agentId, seq);
    if (record < 0) record = this.#open.open(agentId, seq);
    const members = this.#groups.get(group);
    const laidOut = this.#received.groupOf(record);
    // Cells laid out for another group: by a receipt whose stamp named another group, or a send
    // reported twice with another group (neither from spear's agents and a faithful server).
    if (laidOut !== undefined && laidOut !== members) this.#received.detach(record);
    this.#open.send(record, group, slot, sentUs);
    if (members !== undefined) this.#received.attach(record, members);
    this.#schedule?.queue(agentId, seq);
  }

  /**
   * Books one receipt row. Subtleness: a broadcast no longer open was either
   * settled (its send was reported: its seq is at most its sender's last
   * reported one) and its copies count after settling, or its send is not
   * reported yet and it opens here, unless its sender cannot report it any
   * more (ended, or no agent of this run): unknown sender. Only a settled
   * broadcast can have a shortfall record. Hot path: no hashing but the
   * sender's and the group's small maps, typed-array writes, nothing allocated
   * (the rare paths past settling take the row as a tuple).
   */
  #receipt(slot: number, receipts: ReceiptRows, row: number): void {
    this.#seen = true;
    const { numbers, count } = receipts;
    const agent = numbers[column.agent * count + row]!;
    const seq = numbers[column.seq * count + row]!;
    let record = this.#open.find(agent, seq);
    if (record < 0) {
      if (seq <= this.#open.lastSent(agent)) {
        const receipt = receipts.row(row);
        if (this.#shortfalls.receive(broadcastKey(agent, seq), slot, receipt)) return;
        this.#tally.addAfterSettling(undefined, receipt, { lost: 0, unverified: 0 });
        return;
      }
      if (this.#schedule !== undefined && !this.#schedule.reporting(agent)) {
        this.#tally.addUnknownSender(countsOf(receipts.row(row)));
        return;
      }
      record = this.#open.open(agent, seq);
    }
    // Until the send is reported, lay out the counts by the stamp's group (about half the receipts
    // come first): booked straight into cells, not parked as pairs to move later. Once it is, only
    // the send's group counts: `#sent` laid them out by it (or found no members of it yet).
    if (this.#open.group(record) < 0 && this.#received.groupOf(record) === undefined) {
      const members = this.#groups.get(numbers[column.group * count + row]!);
      if (members !== undefined) this.#received.attach(record, members);
    }
    this.#open.book(record, receipts, row);
    const copies = numbers[column.delivered * count + row]! + numbers[column.late * count + row]!;
    if (copies === 0) return;
    this.#received.add(record, slot, copies);
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
    this.#schedule?.drain((agentId, seq) => {
      const record = this.#open.find(agentId, seq);
      if (record < 0) return true;
      const sentUs = this.#open.sentUs(record);
      if (sentUs > settleUntilUs) {
        oldestOpenUs = Math.min(oldestOpenUs, sentUs);
        return false;
      }
      this.#settleRecord(broadcastKey(agentId, seq), record, (check ??= { saturated: settle.saturated(), timeoutMs: settle.timeoutMs }));
      return true;
    });
    // Sends not reported yet are newer than their sender's coverage; a clock resync may move
    // one send a little before the one queued ahead of it: a horizon and an interval of slack.
    const forgetBeforeUs = (Math.min(oldestOpenUs / 1000, reachedMs - horizonMs) - settle.intervalMs) * 1000;
    this.#groups.forgetBefore(forgetBeforeUs);
  }

  /** Adds one broadcast to the running totals and forgets it, keeping a compact record when copies were missing. */
  #settleRecord(key: number, record: number, check: ReceiverCheck): void {
    const split = this.#splitInto;
    const missing = this.#missing;
    this.#split.split(record, check, split, missing);
    const short = split.lost + split.unverified > 0;
    const entry = this.#open.view(record, this.#view);
    this.#tally.addBroadcast(entry, split, !short);
    if (short) this.#shortfalls.keep(key, entry.group, entry, missing.slice());
    missing.length = 0;
    this.#close(record);
    this.#settled += 1;
  }

  #close(record: number): void {
    this.#received.release(record);
    this.#open.close(record);
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
}
