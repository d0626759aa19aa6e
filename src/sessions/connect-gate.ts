/** A user waiting for admission, oldest first. */
interface Admission {
  readonly resolve: (admitted: boolean) => void;
}

/** A FIFO of waiters that does not shift (thousands may wait during a reconnect storm). */
class AdmissionQueue {
  #items: (Admission | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: Admission): void {
    this.#items.push(item);
  }

  shift(): Admission | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head += 1;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Empties the queue, oldest first. */
  drain(each: (item: Admission) => void): void {
    for (let item = this.shift(); item !== undefined; item = this.shift()) each(item);
  }
}

/**
 * Paces one agent's connection attempts, synchronously (no `await` between
 * the check and the count, so a burst of users cannot all pass one check):
 *
 * - **Slots** bound handshakes in flight: a user holds one from admission
 *   (or from the ramp's reservation when it starts a user whose flow
 *   connects first) until its connect settles. Past `cap`, users wait.
 * - **Turns** bound the attempts one event-loop turn may start to
 *   `perTurn`: the budget refills in the check phase (`setImmediate`), so a
 *   late timer or a burst of ticket replies never starts more than one
 *   slice before the loop polls again (past ~14k sockets each kernel
 *   `connect()` costs ~0.85 ms).
 *
 * Waiters are admitted in order; those already holding a slot go first.
 * Single-threaded; the admission fast path allocates nothing.
 */
export class ConnectGate {
  readonly #cap: number;
  readonly #perTurn: number;
  /** Waiters holding a reserved slot: they only need turn budget. */
  readonly #reserved = new AdmissionQueue();
  /** Waiters needing a slot and turn budget. */
  readonly #unslotted = new AdmissionQueue();
  #held = 0;
  #turnUsed = 0;
  #turnTimer: NodeJS.Immediate | undefined;
  #closed = false;
  /** Connection attempts started since the last `takeStarted`. */
  #started = 0;

  constructor(cap: number, perTurn: number) {
    this.#cap = Math.max(1, cap);
    this.#perTurn = Math.max(1, perTurn);
  }

  /** Slots held: handshakes in flight plus users reserved for one. */
  get held(): number {
    return this.#held;
  }

  /** Users waiting for admission. */
  get waiting(): number {
    return this.#reserved.length + this.#unslotted.length;
  }

  /** Slots a caller could reserve now: waiters without a slot are served first. */
  get free(): number {
    return Math.max(0, this.#cap - this.#held - this.#unslotted.length);
  }

  /** Takes a slot for a user about to start (the ramp); false when none is free. Does not spend turn budget. */
  reserve(): boolean {
    if (this.#closed || this.free === 0) return false;
    this.#held += 1;
    return true;
  }

  /**
   * Admits one connection attempt now if it can (a slot, unless `holdsSlot`,
   * and one unit of this turn's budget); false means: call `admit`. Never
   * admits past waiters.
   */
  tryAdmit(holdsSlot: boolean): boolean {
    if (this.#closed || this.#reserved.length > 0 || this.#turnUsed >= this.#perTurn) return false;
    if (!holdsSlot) {
      if (this.#unslotted.length > 0 || this.#held >= this.#cap) return false;
      this.#held += 1;
    }
    this.#spend();
    return true;
  }

  /** Waits for admission (after `tryAdmit` said no); resolves false when the gate closed instead. */
  admit(holdsSlot: boolean): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      (holdsSlot ? this.#reserved : this.#unslotted).push({ resolve });
      this.#refillLater();
    });
  }

  /** Gives a slot back (the connect settled, or a reserved user ended before connecting). */
  release(): void {
    if (this.#held > 0) this.#held -= 1;
    if (this.#unslotted.length > 0) this.#pump();
  }

  /** Counts a connection attempt that started (what `takeStarted` reports). */
  started(): void {
    this.#started += 1;
  }

  /** Attempts started since the last call. */
  takeStarted(): number {
    const started = this.#started;
    this.#started = 0;
    return started;
  }

  /** Admits nobody from now on; every waiter resolves false. */
  close(): void {
    this.#closed = true;
    if (this.#turnTimer !== undefined) clearImmediate(this.#turnTimer);
    this.#turnTimer = undefined;
    const refuse = (waiter: Admission): void => waiter.resolve(false);
    this.#reserved.drain(refuse);
    this.#unslotted.drain(refuse);
  }

  #spend(): void {
    this.#turnUsed += 1;
    this.#refillLater();
  }

  /** The budget refills in the next check phase, after the loop polled for I/O. */
  #refillLater(): void {
    if (this.#turnTimer !== undefined || this.#closed) return;
    this.#turnTimer = setImmediate(this.#refill);
  }

  readonly #refill = (): void => {
    this.#turnTimer = undefined;
    this.#turnUsed = 0;
    this.#pump();
  };

  /**
   * Admits waiters while budget (and slots, for those without) last. Out of
   * budget, the next turn goes on; out of slots, the next `release` does
   * (no turn is scheduled for nothing).
   */
  #pump(): void {
    for (;;) {
      if (this.#turnUsed >= this.#perTurn) {
        if (this.waiting > 0) this.#refillLater();
        return;
      }
      const waiter = this.#reserved.shift() ?? this.#nextUnslotted();
      if (waiter === undefined) return;
      this.#spend();
      waiter.resolve(true);
    }
  }

  #nextUnslotted(): Admission | undefined {
    if (this.#held >= this.#cap || this.#unslotted.length === 0) return undefined;
    this.#held += 1;
    return this.#unslotted.shift();
  }
}
