import { createHistogram, recordUs, summarizeMs, type Histogram, type LatencySummaryMs } from '../metrics/histogram.js';
import type { BroadcastReceipt, DeliveryCounts } from '../wire/messages.js';

/** One group's broadcast accounting; the rows add up to the run's totals of these fields. */
export interface GroupBroadcasts {
  readonly group: number;
  readonly sent: number;
  readonly expected: number;
  readonly delivered: number;
  /** Missing copies at receiving agents that were healthy for the whole window (see BroadcastSummary.lost). */
  readonly lost: number;
  /** Missing copies at receiving agents saturated during the window (see BroadcastSummary.unverified). */
  readonly unverified: number;
  readonly late: number;
  readonly duplicated: number;
}

/** Per-run broadcast accounting (result file: summary.broadcast). */
export interface BroadcastSummary {
  readonly sent: number;
  /** Deliveries expected: members joined (and connected) at each send, summed. */
  readonly expected: number;
  /** First copies to members within broadcast.timeout. */
  readonly delivered: number;
  /**
   * Expected deliveries that never arrived at a receiving agent that was
   * healthy (not saturated, reporting) for the whole window from the send
   * to the send + broadcast.timeout: the server's fault. Counted per
   * broadcast and receiving agent, max(0, expected there − delivered − late).
   */
  readonly lost: number;
  /**
   * Expected deliveries that never arrived at a receiving agent whose load
   * thread was saturated (or did not report) at some moment of that window:
   * the copies may be sitting unread in spear's own receive queues, so they
   * are neither blamed on the server as lost nor counted as delivered.
   */
  readonly unverified: number;
  /** First copies to members after broadcast.timeout (not lost). */
  readonly late: number;
  readonly duplicated: number;
  readonly outOfOrder: number;
  readonly nonMember: number;
  /** Copies to members that joined after the send: neither expected nor delivered. */
  readonly unexpected: number;
  /** Deliveries whose broadcast's send was never reported (its sender's agent was lost). */
  readonly unknownSender: number;
  /** Per broadcast: from the send to its first and to its last member. */
  readonly firstMemberMs: LatencySummaryMs;
  readonly lastMemberMs: LatencySummaryMs;
  readonly groups: readonly GroupBroadcasts[];
}

/** One broadcast's numbers as the ledger hands them over when it is settled or summarized. */
export interface BookedBroadcast extends DeliveryCounts {
  /** −1 until the send is reported. */
  group: number;
  /** Send time (coordinator clock, µs); −1 until the send is reported. */
  sentUs: number;
  firstUs: number;
  lastUs: number;
}

/** A BookedBroadcast of zeros, to reuse as a view. */
export function bookedBroadcast(): BookedBroadcast {
  return { group: -1, sentUs: -1, delivered: 0, late: 0, duplicated: 0, outOfOrder: 0, nonMember: 0, unexpected: 0, firstUs: 0, lastUs: 0 };
}

/** Expected, lost and unverified copies of one broadcast, summed over receiving agents. */
export interface Split {
  expected: number;
  lost: number;
  unverified: number;
}

type Row = { -readonly [K in keyof Omit<GroupBroadcasts, 'group'>]: number };
type Totals = Row & { outOfOrder: number; nonMember: number; unexpected: number; unknownSender: number };

/**
 * Running broadcast aggregates: the totals, one row per group, and the
 * first/last-member histograms. Settled broadcasts are added here and
 * forgotten, so its size depends on the groups, never on the run's length.
 * Adding allocates only a group's first row. Single-threaded.
 */
export class BroadcastTally {
  readonly #totals: Totals = { ...emptyRow(), outOfOrder: 0, nonMember: 0, unexpected: 0, unknownSender: 0 };
  readonly #groups = new Map<number, Row>();
  readonly #first: Histogram = createHistogram();
  readonly #last: Histogram = createHistogram();

  /**
   * Adds one broadcast whose send was reported, split by receiving agent.
   * Its first/last-member times are recorded here only with `withTimes`
   * (a broadcast still short of copies records them when it is let go).
   */
  addBroadcast(entry: BookedBroadcast, split: Split, withTimes: boolean): void {
    addTo(this.#totals, entry, split);
    addTo(this.#row(entry.group), entry, split);
    this.#addStrays(entry);
    if (withTimes) this.addTimes(entry.sentUs, entry.firstUs, entry.lastUs);
  }

  /** Records one broadcast's first and last member, if any member got it. */
  addTimes(sentUs: number, firstUs: number, lastUs: number): void {
    if (firstUs <= 0) return;
    recordUs(this.#first, firstUs - sentUs);
    recordUs(this.#last, lastUs - sentUs);
  }

  /** A broadcast whose send was never reported: its first copies count as `unknownSender`, in no group. */
  addUnknownSender(counts: DeliveryCounts): void {
    this.#totals.unknownSender += counts.delivered + counts.late;
    this.#totals.duplicated += counts.duplicated;
    this.#addStrays(counts);
  }

  /**
   * Copies of a settled broadcast that arrived after it was settled, in
   * its group's row when the group is still known: first copies add to
   * delivered/late as the receiving agent classified them, and `found`
   * of them fill copies counted missing (lost or unverified) before.
   */
  addAfterSettling(group: number | undefined, receipt: BroadcastReceipt, found: { lost: number; unverified: number }): void {
    const counts = countsOf(receipt);
    const rows = group === undefined ? [this.#totals] : [this.#totals, this.#row(group)];
    for (const into of rows) {
      into.delivered += counts.delivered;
      into.late += counts.late;
      into.duplicated += counts.duplicated;
      into.lost -= found.lost;
      into.unverified -= found.unverified;
    }
    this.#addStrays(counts);
  }

  /** A copy of the aggregates to finish a summary on without touching these. */
  clone(): BroadcastTally {
    const copy = new BroadcastTally();
    Object.assign(copy.#totals, this.#totals);
    for (const [group, row] of this.#groups) copy.#groups.set(group, { ...row });
    copy.#first.add(this.#first);
    copy.#last.add(this.#last);
    return copy;
  }

  summary(): BroadcastSummary {
    return {
      ...this.#totals,
      firstMemberMs: summarizeMs(this.#first),
      lastMemberMs: summarizeMs(this.#last),
      groups: [...this.#groups.entries()].sort((a, b) => a[0] - b[0]).map(([group, row]) => ({ group, ...row })),
    };
  }

  /** Counts kept in the totals only (never in a group's row). */
  #addStrays(counts: DeliveryCounts): void {
    this.#totals.outOfOrder += counts.outOfOrder;
    this.#totals.nonMember += counts.nonMember;
    this.#totals.unexpected += counts.unexpected;
  }

  #row(group: number): Row {
    let row = this.#groups.get(group);
    if (row === undefined) this.#groups.set(group, (row = emptyRow()));
    return row;
  }
}

/** The delivery counts of a receipt row. */
export function countsOf(receipt: BroadcastReceipt): DeliveryCounts {
  const [, , delivered, late, duplicated, outOfOrder, nonMember, unexpected] = receipt;
  return { delivered, late, duplicated, outOfOrder, nonMember, unexpected };
}

function addTo(into: Row, entry: BookedBroadcast, split: Split): void {
  into.sent += 1;
  into.expected += split.expected;
  into.delivered += entry.delivered;
  into.late += entry.late;
  into.lost += split.lost;
  into.unverified += split.unverified;
  into.duplicated += entry.duplicated;
}

function emptyRow(): Row {
  return { sent: 0, expected: 0, delivered: 0, lost: 0, unverified: 0, late: 0, duplicated: 0 };
}
