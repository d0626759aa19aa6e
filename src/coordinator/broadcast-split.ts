import type { BroadcastGroups } from './broadcast-groups.js';
import type { ReceiverCheck } from './broadcast-ledger.js';
import type { OpenBroadcasts } from './broadcast-open.js';
import type { ReceivedCopies } from './broadcast-received.js';
import type { Split } from './broadcast-tally.js';

/**
 * Splits an open broadcast's expected copies by receiving agent: per
 * agent, the members joined there at the send (the sender left out of its
 * own agent's unless broadcast.includeSender) against the first copies
 * that agent read; what is missing there is lost, or unverified when the
 * agent was saturated during the window. Subtleness: each agent is settled
 * on its own (a surplus at one agent never hides a gap at another). Only
 * agents with members of the group expect copies, so only they and the
 * agents in the broadcast's pairs (which can miss copies only by reporting
 * a negative count, never from spear's agents) are visited: O(the group's
 * agents), not O(the run's agents). Allocates nothing. Single-threaded.
 */
export class BroadcastSplit {
  readonly #open: OpenBroadcasts;
  readonly #received: ReceivedCopies;
  readonly #groups: BroadcastGroups;
  /** Agent id by slot (the ledger's list, which grows). */
  readonly #agents: readonly number[];
  readonly #includeSender: boolean;
  /** Scratch, all zeros between calls: the pairs' copies by agent slot, and their slots. */
  #bySlot = new Float64Array(64);
  readonly #pairSlots: number[] = [];

  constructor(open: OpenBroadcasts, received: ReceivedCopies, groups: BroadcastGroups, agents: readonly number[], includeSender: boolean) {
    this.#open = open;
    this.#received = received;
    this.#groups = groups;
    this.#agents = agents;
    this.#includeSender = includeSender;
  }

  /**
   * Splits `record` into `into`; given `missing`, appends [agent slot,
   * missing copies] pairs for the agents that missed some: positive when
   * lost, negative when unverified. Without `check`, every missing copy is lost.
   */
  split(record: number, check: ReceiverCheck | undefined, into: Split, missing?: number[]): void {
    into.expected = 0;
    into.lost = 0;
    into.unverified = 0;
    if (this.#bySlot.length < this.#agents.length) this.#bySlot = new Float64Array(this.#agents.length * 2);
    const bySlot = this.#bySlot;
    const pairSlots = this.#pairSlots;
    this.#received.scatter(record, bySlot, pairSlots);
    const members = this.#groups.get(this.#open.group(record));
    const sentUs = this.#open.sentUs(record);
    const senderSlot = this.#open.senderSlot(record);
    const width = members?.width ?? 0;
    for (let local = 0; local < width; local += 1) {
      const slot = members!.slots[local]!;
      const joined = members!.timelines[local]!.at(sentUs);
      const expected = Math.max(0, slot === senderSlot && !this.#includeSender ? joined - 1 : joined);
      into.expected += expected;
      this.#lacking(slot, expected - (this.#received.cell(record, local) + bySlot[slot]!), sentUs, check, into, missing);
    }
    for (const slot of pairSlots) {
      if (members !== undefined && members.localOf(slot) >= 0) continue;
      // An agent without members expects none: it misses copies only if its count went below zero.
      this.#lacking(slot, -bySlot[slot]!, sentUs, check, into, missing);
      bySlot[slot] = 0;
    }
    for (const slot of pairSlots) bySlot[slot] = 0;
    pairSlots.length = 0;
  }

  /** Books `lacking` copies missing at agent `slot` (nothing when ≤ 0). */
  #lacking(slot: number, lacking: number, sentUs: number, check: ReceiverCheck | undefined, into: Split, missing: number[] | undefined): void {
    if (lacking <= 0) return;
    const sentMs = sentUs / 1000;
    const unverified = check !== undefined && check.saturated(this.#agents[slot]!, sentMs, sentMs + check.timeoutMs);
    if (unverified) into.unverified += lacking;
    else into.lost += lacking;
    missing?.push(slot, unverified ? -lacking : lacking);
  }
}
