import type { SessionRecorder } from '../metrics/session-recorder.js';
import type { BroadcastReceipt, DeliveryCounts, MembershipChange, SentBroadcast } from '../wire/messages.js';
import type { CoordinatorClock } from './clock.js';

/** What the tracker needs to know about a receiving user. */
export interface Member {
  /** Global user index. */
  readonly index: number;
  readonly group: number;
  /** Index among this agent's users. */
  readonly slot: number;
  /** When the user last joined its group (coordinator clock, µs); 0 while not a member. */
  joinedAtUs: number;
}

export interface TrackerOptions {
  readonly agentId: number;
  readonly agentCount: number;
  readonly localUsers: number;
  readonly groupSize: number;
  readonly timeoutMs: number;
  readonly includeSender: boolean;
}

/** Per-broadcast state on a receiving agent, kept for two delivery windows after the send. */
interface Receipt extends DeliveryCounts {
  readonly agent: number;
  readonly seq: number;
  readonly sentUs: number;
  /** One bit per member position in the group: who already got it (duplicates). */
  readonly seen: Uint8Array;
  firstUs: number;
  lastUs: number;
  touched: boolean;
}

const marker = Buffer.from('spear:');
/** Fields after the marker: agent, seq, group, sender user, sent time (µs). */
const fieldCount = 5;
const seqSpan = 4294967296;

/** One number naming a broadcast across the run: its sender's agent and that agent's seq. */
export function broadcastKey(agent: number, seq: number): number {
  return agent * seqSpan + seq;
}

/** The six delivery counts, all zero. */
export function noDeliveries(): DeliveryCounts {
  return { delivered: 0, late: 0, duplicated: 0, outOfOrder: 0, nonMember: 0, unexpected: 0 };
}

/**
 * The agent's side of broadcast accounting. Senders call `stamp`, which
 * returns the text to embed in the payload ("spear:<agent>.<seq>.<group>.<user>.<sentUs>")
 * and logs the send; receivers hand every candidate frame to `receive`,
 * which finds the stamp by bytes (no JSON parse) and classifies the
 * delivery. The coordinator turns sends, receipts and membership changes
 * into expected/lost counts (it alone sees every agent). Single-threaded.
 */
export class BroadcastTracker {
  readonly #options: TrackerOptions;
  readonly #clock: CoordinatorClock;
  readonly #recorder: SessionRecorder;
  readonly #fields = new Float64Array(fieldCount);
  readonly #receipts = new Map<number, Receipt>();
  /** Last seq seen per (local user, sending agent), for out-of-order detection. */
  readonly #lastSeq: Float64Array;
  #seq = 0;
  #sent: SentBroadcast[] = [];
  #membership: MembershipChange[] = [];

  constructor(options: TrackerOptions, clock: CoordinatorClock, recorder: SessionRecorder) {
    this.#options = options;
    this.#clock = clock;
    this.#recorder = recorder;
    this.#lastSeq = new Float64Array(options.localUsers * options.agentCount).fill(-1);
  }

  /** A new stamp for a broadcast `member` sends now. */
  stamp(member: Member): string {
    const seq = this.#seq;
    this.#seq += 1;
    const sentUs = this.#clock.nowUs();
    this.#sent.push([member.group, seq, member.index, sentUs]);
    this.#recorder.counters.broadcastsSent += 1;
    return `spear:${this.#options.agentId}.${seq}.${member.group}.${member.index}.${sentUs}`;
  }

  joined(member: Member): void {
    member.joinedAtUs = this.#clock.nowUs();
    this.#membership.push([member.group, member.joinedAtUs, 1]);
  }

  left(member: Member): void {
    if (member.joinedAtUs === 0) return;
    member.joinedAtUs = 0;
    this.#membership.push([member.group, this.#clock.nowUs(), -1]);
  }

  /**
   * Looks for a stamp in `frame` from `from` and accounts the delivery to
   * `member`. Returns false when the frame holds no stamp. Hot path: no
   * allocation except the first receipt of each broadcast.
   */
  receive(frame: Buffer, from: number, member: Member): boolean {
    const at = frame.indexOf(marker, from);
    if (at < 0 || !this.#parseFields(frame, at + marker.length)) return false;
    const fields = this.#fields;
    const agent = fields[0]!;
    const seq = fields[1]!;
    const group = fields[2]!;
    const sender = fields[3]!;
    const sentUs = fields[4]!;
    if (!this.#options.includeSender && sender === member.index) return true;
    const nowUs = this.#clock.nowUs();
    const receipt = this.#receipt(agent, seq, sentUs);
    const counters = this.#recorder.counters;
    if (!receipt.touched) receipt.touched = true;
    if (group !== member.group) {
      receipt.nonMember += 1;
      counters.nonMember += 1;
      return true;
    }
    if (member.joinedAtUs === 0 || member.joinedAtUs > sentUs) {
      receipt.unexpected += 1;
      counters.unexpected += 1;
      return true;
    }
    const position = member.index - group * this.#options.groupSize;
    const byte = position >> 3;
    const bit = 1 << (position & 7);
    if ((receipt.seen[byte]! & bit) !== 0) {
      receipt.duplicated += 1;
      counters.duplicated += 1;
      return true;
    }
    receipt.seen[byte] = receipt.seen[byte]! | bit;
    const latencyUs = nowUs - sentUs;
    this.#recorder.delivered(latencyUs);
    if (latencyUs > this.#options.timeoutMs * 1000) {
      receipt.late += 1;
      counters.late += 1;
    } else {
      receipt.delivered += 1;
      counters.delivered += 1;
    }
    const slot = member.slot * this.#options.agentCount + agent;
    if (seq < this.#lastSeq[slot]!) {
      receipt.outOfOrder += 1;
      counters.outOfOrder += 1;
    } else {
      this.#lastSeq[slot] = seq;
    }
    if (receipt.firstUs === 0 || nowUs < receipt.firstUs) receipt.firstUs = nowUs;
    if (nowUs > receipt.lastUs) receipt.lastUs = nowUs;
    return true;
  }

  /** The interval's sends, receipts and membership changes; forgets broadcasts older than two windows. */
  takeInterval(): { sent: SentBroadcast[]; receipts: BroadcastReceipt[]; membership: MembershipChange[] } {
    const receipts: BroadcastReceipt[] = [];
    const forgetBeforeUs = this.#clock.nowUs() - 2 * this.#options.timeoutMs * 1000;
    for (const [key, receipt] of this.#receipts) {
      if (receipt.touched) {
        receipts.push([
          receipt.agent, receipt.seq, receipt.delivered, receipt.late, receipt.duplicated, receipt.outOfOrder,
          receipt.nonMember, receipt.unexpected, receipt.firstUs, receipt.lastUs,
        ]);
        resetCounts(receipt);
      }
      if (receipt.sentUs < forgetBeforeUs) this.#receipts.delete(key);
    }
    const taken = { sent: this.#sent, receipts, membership: this.#membership };
    this.#sent = [];
    this.#membership = [];
    return taken;
  }

  #receipt(agent: number, seq: number, sentUs: number): Receipt {
    const key = broadcastKey(agent, seq);
    let receipt = this.#receipts.get(key);
    if (receipt === undefined) {
      receipt = {
        agent, seq, sentUs, seen: new Uint8Array((this.#options.groupSize + 7) >> 3),
        ...noDeliveries(), firstUs: 0, lastUs: 0, touched: false,
      };
      this.#receipts.set(key, receipt);
    }
    return receipt;
  }

  /** Reads "a.b.c.d.e" decimal fields into #fields; false when malformed. */
  #parseFields(frame: Buffer, start: number): boolean {
    let at = start;
    for (let field = 0; field < fieldCount; field += 1) {
      let value = 0;
      const first = at;
      while (at < frame.length) {
        const byte = frame[at]!;
        if (byte < 0x30 || byte > 0x39) break;
        value = value * 10 + (byte - 0x30);
        at += 1;
      }
      if (at === first) return false;
      this.#fields[field] = value;
      if (field < fieldCount - 1) {
        if (frame[at] !== 0x2e) return false;
        at += 1;
      }
    }
    return true;
  }
}

function resetCounts(receipt: Receipt): void {
  Object.assign(receipt, noDeliveries());
  receipt.firstUs = 0;
  receipt.lastUs = 0;
  receipt.touched = false;
}
