import type { ChildProcess } from 'node:child_process';
import { messageOf } from '../errors.js';

/**
 * Moves validated messages one way and the other. Implementations own
 * framing and connection state only; they never interpret a message.
 * `send` never blocks; messages to a closed transport are dropped.
 */
export interface Transport<Outgoing, Incoming> {
  send(message: Outgoing): void;
  /** Called once per received message that `parse` accepted. */
  onMessage(listener: (message: Incoming) => void): void;
  /** Called once, when the peer goes away or sent something invalid. */
  onClose(listener: (reason: string) => void): void;
  close(): void;
}

type Parse<T> = (value: unknown) => T;

/** A transport over a Node IPC channel (process.send / 'message'). */
class IpcTransport<Outgoing, Incoming> implements Transport<Outgoing, Incoming> {
  readonly #channel: NodeJS.Process | ChildProcess;
  readonly #parse: Parse<Incoming>;
  #closed = false;
  #closeListeners: ((reason: string) => void)[] = [];

  constructor(channel: NodeJS.Process | ChildProcess, parse: Parse<Incoming>) {
    this.#channel = channel;
    this.#parse = parse;
    channel.on('disconnect', () => this.#finish('the IPC channel closed'));
  }

  send(message: Outgoing): void {
    if (this.#closed || this.#channel.connected !== true || this.#channel.send === undefined) return;
    this.#channel.send(message as object, undefined, undefined, (error: Error | null) => {
      if (error !== null) this.#finish(`sending failed: ${error.message}`);
    });
  }

  onMessage(listener: (message: Incoming) => void): void {
    this.#channel.on('message', (raw: unknown) => {
      if (this.#closed) return;
      let message: Incoming;
      try {
        message = this.#parse(raw);
      } catch (error) {
        this.#finish(`invalid message: ${messageOf(error)}`);
        return;
      }
      listener(message);
    });
  }

  onClose(listener: (reason: string) => void): void {
    this.#closeListeners.push(listener);
  }

  close(): void {
    if (this.#closed) return;
    if (this.#channel.connected === true) this.#channel.disconnect?.();
    this.#finish('closed');
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const listener of this.#closeListeners) listener(reason);
  }
}

/** The coordinator's end of a local agent's IPC channel. */
export function childTransport<Outgoing, Incoming>(child: ChildProcess, parse: Parse<Incoming>): Transport<Outgoing, Incoming> {
  return new IpcTransport<Outgoing, Incoming>(child, parse);
}

/** An agent's end of the IPC channel to the coordinator that forked it. */
export function parentTransport<Outgoing, Incoming>(parse: Parse<Incoming>): Transport<Outgoing, Incoming> {
  if (process.send === undefined) throw new Error('no IPC channel: this process was not started by a coordinator');
  return new IpcTransport<Outgoing, Incoming>(process, parse);
}
