/** How many unconsumed messages a user keeps for its next `expect` steps. */
export const inboxSize = 8;
/** How long a kept message stays a candidate. */
export const inboxMaxAgeMs = 5000;

/** One message kept for a later `expect`: its payload bytes (owned), from where the listener's `payloadStart` pointed. */
export interface KeptMessage {
  readonly event: string;
  readonly payload: Buffer;
  /** performance.now() when it arrived. */
  readonly at: number;
}

/**
 * A user's inbox: messages that arrived while no step was waiting for them
 * (between two steps, during an `http` step or an ack's wait, or while an
 * `expect` waited for another one), kept so that the next `expect` finds
 * them. ws dispatches every frame of one TCP read synchronously, before the
 * awaited continuation that starts the next step runs: without an inbox, the
 * second of two back-to-back answers is lost.
 *
 * Bounded: the last 8 messages, each for 5 s; the oldest goes first. Users
 * create it lazily and drop it when their flow completes or their connection
 * ends, so a user holding its connection keeps nothing. Copies are made with
 * `allocUnsafeSlow`: a pooled slice would keep its whole 8 KB slab alive.
 */
export class Inbox {
  readonly #items: KeptMessage[] = [];

  /** Keeps a copy of `frame` from `payloadStart`, evicting the oldest beyond the bound. */
  keep(event: string, frame: Buffer, payloadStart: number, at: number): void {
    const payload = Buffer.allocUnsafeSlow(frame.length - payloadStart);
    frame.copy(payload, 0, payloadStart);
    if (this.#items.length >= inboxSize) this.#items.shift();
    this.#items.push({ event, payload, at });
  }

  /**
   * Offers the kept messages, oldest first, to `take` until it consumes one
   * (returns true), which is then removed. Expired messages are dropped first.
   */
  offer(now: number, take: (message: KeptMessage) => boolean): void {
    const items = this.#items;
    while (items.length > 0 && now - items[0]!.at > inboxMaxAgeMs) items.shift();
    for (let index = 0; index < items.length; index += 1) {
      if (take(items[index]!)) {
        items.splice(index, 1);
        return;
      }
    }
  }
}
