import type { SessionRecorder } from '../metrics/session-recorder.js';
import type { BroadcastReceipt, DeliveryCounts, MembershipChange, SentBroadcast } from '../wire/messages.js';
import { ReceiptRows } from '../wire/receipt-rows.js';
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
  /** The group its stamp names. */
  readonly group: number;
  /** The sending user (global index). */
  readonly sender: number;
  readonly sentUs: number;
  /** A later broadcast of the same sender reached this agent too: first copies of this one must check order. */
  hasNewer: boolean;
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
 *
 * Out of order means: a member's first copy of a broadcast arrived after it
 * had received a later broadcast *of the same sending user*. Only that order
 * is promised (one sender's connection, one receiver's connection); two
 * senders' broadcasts race through the server and are never compared.
 */
export class BroadcastTracker {
  readonly #options: TrackerOptions;
  readonly #clock: CoordinatorClock;
  readonly #recorder: SessionRecorder;
  readonly #fields = new Float64Array(fieldCount);
  readonly #receipts = new Map<number, Receipt>();
  /** The receipts of each sending user, in seq order (a sender's seqs rise with its sends), for order checks. */
  readonly #bySender = new Map<number, Receipt[]>();
  #seq = 0;
  #sent: SentBroadcast[] = [];
  #membership: MembershipChange[] = [];

  constructor(options: TrackerOptions, clock: CoordinatorClock, recorder: SessionRecorder) {
    this.#options = options;
    this.#clock = clock;
    this.#recorder = recorder;
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
    const receipt = this.#receipt(agent, seq, group, sender, sentUs);
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
    // Order is a promise per connection pair only: compare with the same sender's later broadcasts, never another's.
    if (receipt.hasNewer && this.#sawNewer(receipt, byte, bit)) {
      receipt.outOfOrder += 1;
      counters.outOfOrder += 1;
    }
    if (receipt.firstUs === 0 || nowUs < receipt.firstUs) receipt.firstUs = nowUs;
    if (nowUs > receipt.lastUs) receipt.lastUs = nowUs;
    return true;
  }

  /** The interval's sends, receipts and membership changes; forgets broadcasts older than two windows. */
  takeInterval(): { sent: SentBroadcast[]; receipts: ReceiptRows; membership: MembershipChange[] } {
    const rows: BroadcastReceipt[] = [];
    const forgetBeforeUs = this.#clock.nowUs() - 2 * this.#options.timeoutMs * 1000;
    for (const [key, receipt] of this.#receipts) {
      if (receipt.touched) {
        rows.push([
          receipt.agent, receipt.seq, receipt.delivered, receipt.late, receipt.duplicated, receipt.outOfOrder,
          receipt.nonMember, receipt.unexpected, receipt.firstUs, receipt.lastUs, receipt.group,
        ]);
        resetCounts(receipt);
      }
      if (receipt.sentUs < forgetBeforeUs) this.#receipts.delete(key);
    }
    for (const [sender, list] of this.#bySender) {
      if (list[0]!.sentUs >= forgetBeforeUs) continue;
      const kept = list.filter((receipt) => receipt.sentUs >= forgetBeforeUs);
      if (kept.length === 0) this.#bySender.delete(sender);
      else this.#bySender.set(sender, kept);
    }
    const taken = { sent: this.#sent, receipts: ReceiptRows.of(rows), membership: this.#membership };
    this.#sent = [];
    this.#membership = [];
    return taken;
  }

  #receipt(agent: number, seq: number, group: number, sender: number, sentUs: number): Receipt {
    const key = broadcastKey(agent, seq);
    let receipt = this.#receipts.get(key);
    if (receipt === undefined) {
      receipt = {
        agent, seq, group, sender, sentUs, hasNewer: false, seen: new Uint8Array((this.#options.groupSize + 7) >> 3),
        ...noDeliveries(), firstUs: 0, lastUs: 0, touched: false,
      };
      this.#receipts.set(key, receipt);
      this.#listBySender(receipt);
    }
    return receipt;
  }

  /**
   * Files a new receipt under its sender, in seq order. Once per broadcast
   * per agent (not per delivery): marks which receipts have a later one, so
   * that deliveries of the newest (nearly all) skip the order check.
   */
  #listBySender(receipt: Receipt): void {
    let list = this.#bySender.get(receipt.sender);
    if (list === undefined) {
      list = [];
      this.#bySender.set(receipt.sender, list);
    }
    let at = list.length;
    while (at > 0 && list[at - 1]!.seq > receipt.seq) at -= 1;
    if (at < list.length) receipt.hasNewer = true;
    if (at > 0) list[at - 1]!.hasNewer = true;
    list.splice(at, 0, receipt);
  }

  /** Whether the member (bit `bit` of byte `byte`) already got a later broadcast of `receipt`'s sender. */
  #sawNewer(receipt: Receipt, byte: number, bit: number): boolean {
    const list = this.#bySender.get(receipt.sender);
    if (list === undefined) return false;
    for (let at = list.length - 1; at >= 0 && list[at]!.seq > receipt.seq; at -= 1) {
      if ((list[at]!.seen[byte]! & bit) !== 0) return true;
    }
    return false;
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
