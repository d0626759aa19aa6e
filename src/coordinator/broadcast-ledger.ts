import type { SaturationLookup } from '../metrics/generator-verdict.js';
import { createHistogram, recordUs, summarizeMs, type LatencySummaryMs } from '../metrics/histogram.js';
import { broadcastKey, noDeliveries } from '../sessions/broadcast-tracker.js';
import type { DeliveryCounts, SessionReport } from '../wire/messages.js';

/** One group's broadcast accounting. */
export interface GroupBroadcasts {
  readonly group: number;
  readonly sent: number;
  readonly expected: number;
  readonly delivered: number;
  readonly lost: number;
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
  /** Expected deliveries that never arrived. */
  readonly lost: number;
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

interface Entry extends DeliveryCounts {
  group: number;
  sentUs: number;
  firstUs: number;
  lastUs: number;
}

/**
 * The coordinator's broadcast book: every send (from its sender's agent),
 * every agent's receipts, and every membership change, all in the
 * coordinator's clock. Only here is group membership known across agents,
 * so only here can "expected" and "lost" be computed: at the end, from the
 * number of members joined at each send time.
 */
export class BroadcastLedger {
  readonly #includeSender: boolean;
  readonly #entries = new Map<number, Entry>();
  readonly #membership = new Map<number, [number, number][]>();

  constructor(includeSender: boolean) {
    this.#includeSender = includeSender;
  }

  add(agentId: number, report: SessionReport): void {
    for (const [group, seq, , sentUs] of report.sent) {
      const entry = this.#entry(broadcastKey(agentId, seq));
      entry.group = group;
      entry.sentUs = sentUs;
    }
    for (const [agent, seq, delivered, late, duplicated, outOfOrder, nonMember, unexpected, firstUs, lastUs] of report.receipts) {
      const entry = this.#entry(broadcastKey(agent, seq));
      entry.delivered += delivered;
      entry.late += late;
      entry.duplicated += duplicated;
      entry.outOfOrder += outOfOrder;
      entry.nonMember += nonMember;
      entry.unexpected += unexpected;
      if (firstUs > 0 && (entry.firstUs === 0 || firstUs < entry.firstUs)) entry.firstUs = firstUs;
      if (lastUs > entry.lastUs) entry.lastUs = lastUs;
    }
    for (const [group, atUs, delta] of report.membership) {
      let changes = this.#membership.get(group);
      if (changes === undefined) this.#membership.set(group, (changes = []));
      changes.push([atUs, delta]);
    }
  }

  /** True when no broadcast was sent or received. */
  get empty(): boolean {
    return this.#entries.size === 0;
  }

  /** `saturated` tells whether an agent's load thread was saturated in a span (a copy unread there is unverified, not lost). */
  summarize(_saturated?: SaturationLookup): BroadcastSummary {
    const first = createHistogram();
    const last = createHistogram();
    const groups = new Map<number, { sent: number; expected: number; delivered: number; late: number; lost: number; duplicated: number }>();
    const totals = { sent: 0, expected: 0, delivered: 0, lost: 0, late: 0, duplicated: 0, outOfOrder: 0, nonMember: 0, unexpected: 0, unknownSender: 0 };
    const membersAt = this.#membersAt();
    for (const entry of this.#entries.values()) {
      totals.duplicated += entry.duplicated;
      totals.outOfOrder += entry.outOfOrder;
      totals.nonMember += entry.nonMember;
      totals.unexpected += entry.unexpected;
      if (entry.sentUs < 0) {
        totals.unknownSender += entry.delivered + entry.late;
        continue;
      }
      const members = membersAt(entry.group, entry.sentUs);
      const expected = Math.max(0, this.#includeSender ? members : members - 1);
      const lost = Math.max(0, expected - entry.delivered - entry.late);
      totals.sent += 1;
      totals.expected += expected;
      totals.delivered += entry.delivered;
      totals.late += entry.late;
      totals.lost += lost;
      if (entry.firstUs > 0) {
        recordUs(first, entry.firstUs - entry.sentUs);
        recordUs(last, entry.lastUs - entry.sentUs);
      }
      let row = groups.get(entry.group);
      if (row === undefined) groups.set(entry.group, (row = { sent: 0, expected: 0, delivered: 0, late: 0, lost: 0, duplicated: 0 }));
      row.sent += 1;
      row.expected += expected;
      row.delivered += entry.delivered;
      row.late += entry.late;
      row.lost += lost;
      row.duplicated += entry.duplicated;
    }
    return {
      ...totals,
      firstMemberMs: summarizeMs(first),
      lastMemberMs: summarizeMs(last),
      groups: [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([group, row]) => ({ group, ...row })),
    };
  }

  /** A lookup of how many members a group had joined at a time, built from sorted changes. */
  #membersAt(): (group: number, atUs: number) => number {
    const timelines = new Map<number, { times: number[]; counts: number[] }>();
    for (const [group, changes] of this.#membership) {
      changes.sort((a, b) => a[0] - b[0]);
      const times: number[] = [];
      const counts: number[] = [];
      let count = 0;
      for (const [atUs, delta] of changes) {
        count += delta;
        times.push(atUs);
        counts.push(count);
      }
      timelines.set(group, { times, counts });
    }
    return (group, atUs) => {
      const timeline = timelines.get(group);
      if (timeline === undefined) return 0;
      // Last change at or before atUs.
      let low = 0;
      let high = timeline.times.length - 1;
      let found = -1;
      while (low <= high) {
        const middle = (low + high) >> 1;
        if (timeline.times[middle]! <= atUs) {
          found = middle;
          low = middle + 1;
        } else {
          high = middle - 1;
        }
      }
      return found < 0 ? 0 : timeline.counts[found]!;
    };
  }

  #entry(key: number): Entry {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { group: -1, sentUs: -1, ...noDeliveries(), firstUs: 0, lastUs: 0 };
      this.#entries.set(key, entry);
    }
    return entry;
  }
}
