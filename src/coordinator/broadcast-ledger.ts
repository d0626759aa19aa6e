import type { SaturationLookup } from '../metrics/generator-verdict.js';
import { createHistogram, recordUs, summarizeMs, type LatencySummaryMs } from '../metrics/histogram.js';
import { broadcastKey, noDeliveries } from '../sessions/broadcast-tracker.js';
import type { DeliveryCounts, SessionReport } from '../wire/messages.js';

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

/** How to tell a copy spear could not read from one the server never sent. */
export interface ReceiverCheck {
  /** Whether a receiving agent's load thread was saturated at any moment of a span. */
  readonly saturated: SaturationLookup;
  /** broadcast.timeout (ms): the window after each send the receiver must have been healthy for a missing copy to be lost. */
  readonly timeoutMs: number;
}

interface Entry extends DeliveryCounts {
  group: number;
  /** Slot of the sender's agent; -1 until the send is reported. */
  senderSlot: number;
  sentUs: number;
  firstUs: number;
  lastUs: number;
  /** First copies (delivered + late) per receiving agent slot: O(agents) per broadcast, nothing per user. */
  received: number[];
}

type Row = { -readonly [K in keyof Omit<GroupBroadcasts, 'group'>]: number };

/** Expected, lost and unverified copies of one broadcast, summed over receiving agents. */
interface Split {
  expected: number;
  lost: number;
  unverified: number;
}

/**
 * The coordinator's broadcast book: every send (from its sender's agent),
 * every agent's receipts, and every agent's membership changes, all in the
 * coordinator's clock. Only here is group membership known across agents,
 * so only here can "expected" and "lost" be computed: at the end, per
 * broadcast and per receiving agent, from the members joined on that agent
 * at the send time. Memory: one entry per broadcast with one count per
 * receiving agent, plus the membership changes. Single-threaded.
 */
export class BroadcastLedger {
  readonly #includeSender: boolean;
  readonly #entries = new Map<number, Entry>();
  /** Agent id → slot (dense, in order of first report), and back. */
  readonly #slots = new Map<number, number>();
  readonly #agents: number[] = [];
  /** Group → per agent slot, that agent's members' joins and leaves. */
  readonly #membership = new Map<number, (MemberTimeline | undefined)[]>();

  constructor(includeSender: boolean) {
    this.#includeSender = includeSender;
  }

  /** Books one interval report of agent `agentId`. Cheap: no per-user state is kept. */
  add(agentId: number, report: SessionReport): void {
    const slot = this.#slot(agentId);
    for (const [group, seq, , sentUs] of report.sent) {
      const entry = this.#entry(broadcastKey(agentId, seq));
      entry.group = group;
      entry.senderSlot = slot;
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
      while (entry.received.length <= slot) entry.received.push(0);
      entry.received[slot] = entry.received[slot]! + delivered + late;
    }
    for (const [group, atUs, delta] of report.membership) this.#timeline(group, slot).add(atUs, delta);
  }

  /** True when no broadcast was sent or received. */
  get empty(): boolean {
    return this.#entries.size === 0;
  }

  /**
   * Computes the run's accounting once, at the end. With `check`, a copy
   * missing at a receiving agent saturated during its window is
   * `unverified`; without, every missing copy is `lost`.
   */
  summarize(check?: ReceiverCheck): BroadcastSummary {
    const first = createHistogram();
    const last = createHistogram();
    const groups = new Map<number, Row>();
    const totals = { ...emptyRow(), outOfOrder: 0, nonMember: 0, unexpected: 0, unknownSender: 0 };
    const split: Split = { expected: 0, lost: 0, unverified: 0 };
    for (const entry of this.#entries.values()) {
      totals.duplicated += entry.duplicated;
      totals.outOfOrder += entry.outOfOrder;
      totals.nonMember += entry.nonMember;
      totals.unexpected += entry.unexpected;
      if (entry.sentUs < 0) {
        totals.unknownSender += entry.delivered + entry.late;
        continue;
      }
      this.#split(entry, check, split);
      let row = groups.get(entry.group);
      if (row === undefined) groups.set(entry.group, (row = emptyRow()));
      addBroadcast(totals, entry, split);
      addBroadcast(row, entry, split);
      row.duplicated += entry.duplicated;
      if (entry.firstUs > 0) {
        recordUs(first, entry.firstUs - entry.sentUs);
        recordUs(last, entry.lastUs - entry.sentUs);
      }
    }
    return {
      ...totals,
      firstMemberMs: summarizeMs(first),
      lastMemberMs: summarizeMs(last),
      groups: [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([group, row]) => ({ group, ...row })),
    };
  }

  /**
   * Splits one broadcast's expected copies by receiving agent into `into`.
   * Subtleness: each agent is settled on its own (a surplus at one agent
   * never hides a gap at another), and the sender is left out of its own
   * agent's members when broadcast.includeSender is false.
   */
  #split(entry: Entry, check: ReceiverCheck | undefined, into: Split): void {
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
      if (check !== undefined && check.saturated(this.#agents[slot]!, sentMs, sentMs + check.timeoutMs)) into.unverified += missing;
      else into.lost += missing;
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

  #entry(key: number): Entry {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { group: -1, senderSlot: -1, sentUs: -1, ...noDeliveries(), firstUs: 0, lastUs: 0, received: [] };
      this.#entries.set(key, entry);
    }
    return entry;
  }
}

function emptyRow(): Row {
  return { sent: 0, expected: 0, delivered: 0, lost: 0, unverified: 0, late: 0, duplicated: 0 };
}

/** Adds one reported broadcast to a row (duplicates are the caller's: totals count them for unknown senders too). */
function addBroadcast(row: Row, entry: Entry, split: Split): void {
  row.sent += 1;
  row.expected += split.expected;
  row.delivered += entry.delivered;
  row.late += entry.late;
  row.lost += split.lost;
  row.unverified += split.unverified;
}

/**
 * One group's members on one agent over time: joins (+1) and leaves (−1)
 * added in any order; `at` sorts once, then answers by binary search.
 */
class MemberTimeline {
  readonly #changes: [number, number][] = [];
  /** Members after each change of the sorted #changes; stale while #sealed is false. */
  #counts: number[] = [];
  #sealed = true;

  add(atUs: number, delta: number): void {
    this.#changes.push([atUs, delta]);
    this.#sealed = false;
  }

  /** Members joined at `atUs` (a change at exactly `atUs` counts). */
  at(atUs: number): number {
    if (!this.#sealed) this.#seal();
    let low = 0;
    let high = this.#changes.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (this.#changes[middle]![0] <= atUs) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found < 0 ? 0 : this.#counts[found]!;
  }

  #seal(): void {
    this.#changes.sort((a, b) => a[0] - b[0]);
    this.#counts = [];
    let count = 0;
    for (const [, delta] of this.#changes) {
      count += delta;
      this.#counts.push(count);
    }
    this.#sealed = true;
  }
}
