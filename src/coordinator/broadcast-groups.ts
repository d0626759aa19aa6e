import { MemberTimeline } from './member-timeline.js';

/**
 * One group's members across agents: the agent slots that reported joins
 * or leaves of it, in order of their first change (an agent's index in
 * this order is its `local` index, the layout of ReceivedCopies' cells),
 * and each one's member timeline. Sized by the agents holding members of
 * the group (at most the group's size), never by the run's agents.
 */
export class BroadcastGroup {
  /** Agent slot by local index. */
  readonly slots: number[] = [];
  /** Member timeline by local index. */
  readonly timelines: MemberTimeline[] = [];
  readonly #local = new Map<number, number>();
  /** The last slot found, and its local index: a report's receipts come from one agent, a few per group. Local indices never change. */
  #lastSlot = -1;
  #lastLocal = -1;

  /** Agents with members (timelines). */
  get width(): number {
    return this.slots.length;
  }

  /** The local index of agent `slot`, −1 when it never reported a member of this group. */
  localOf(slot: number): number {
    if (slot === this.#lastSlot) return this.#lastLocal;
    const local = this.#local.get(slot);
    if (local === undefined) return -1;
    this.#lastSlot = slot;
    this.#lastLocal = local;
    return local;
  }

  /** Agent `slot`'s timeline, made (and given the next local index) on first use. */
  timeline(slot: number): MemberTimeline {
    const local = this.#local.get(slot);
    if (local !== undefined) return this.timelines[local]!;
    const timeline = new MemberTimeline();
    this.#local.set(slot, this.slots.length);
    this.slots.push(slot);
    this.timelines.push(timeline);
    return timeline;
  }
}

/**
 * Every group's members per agent over time, as the agents' membership
 * changes report them. Memory: one timeline per (group, agent with
 * members of it), at most one per user, plus the changes not folded yet.
 * Single-threaded.
 */
export class BroadcastGroups {
  readonly #groups = new Map<number, BroadcastGroup>();

  get(group: number): BroadcastGroup | undefined {
    return this.#groups.get(group);
  }

  /** Agent `slot` reported a join (+1) or leave (−1) of `group` at `atUs`. */
  change(group: number, slot: number, atUs: number, delta: number): void {
    let members = this.#groups.get(group);
    if (members === undefined) this.#groups.set(group, (members = new BroadcastGroup()));
    members.timeline(slot).add(atUs, delta);
  }

  /** Folds every timeline's changes before `atUs` (see MemberTimeline.forgetBefore). */
  forgetBefore(atUs: number): void {
    for (const group of this.#groups.values()) for (const timeline of group.timelines) timeline.forgetBefore(atUs);
  }

  /** Membership changes kept (not folded), all groups and agents. */
  get changes(): number {
    let changes = 0;
    for (const group of this.#groups.values()) for (const timeline of group.timelines) changes += timeline.size;
    return changes;
  }
}
