import type { Client, Dispatcher } from 'undici';
import type { ExchangeListener, Slot } from '../protocol.js';

/** A request precomputed once per scenario request, reused for every send. */
export type PreparedRequest = Dispatcher.DispatchOptions;

/** "HTTP/1.1 " + 3 digits + " " and CRLF around the status text, plus the blank line ending the head. */
const statusLineBytes = 9 + 3 + 1 + 2 + 2;

/**
 * One lane of one HTTP connection, and its own undici dispatch handler.
 *
 * Subtleness ahead: this uses undici's legacy handler callbacks (onHeaders,
 * onData, onComplete, onError) on purpose. A handler with the newer
 * onRequestStart/onResponseStart methods is wrapped by undici in an
 * UnwrapHandler that parses every response's raw headers into an object;
 * the legacy path hands us the raw buffers and costs nothing per header.
 * The same object is the handler for every exchange on the slot: no
 * closure, promise or handler is allocated per request.
 */
export class HttpSlot implements Slot, Dispatcher.DispatchHandler {
  intendedAt = 0;
  sentAt = 0;
  readonly #client: Client;
  readonly #requests: readonly PreparedRequest[];
  readonly #listener: ExchangeListener;
  #next: number;
  #status = 0;
  #bytes = 0;

  constructor(client: Client, requests: readonly PreparedRequest[], firstRequest: number, listener: ExchangeListener) {
    this.#client = client;
    this.#requests = requests;
    this.#next = firstRequest % requests.length;
    this.#listener = listener;
  }

  send(): void {
    const request = this.#requests[this.#next]!;
    this.#next = this.#next + 1 === this.#requests.length ? 0 : this.#next + 1;
    this.#status = 0;
    this.#bytes = 0;
    this.#client.dispatch(request, this);
  }

  onConnect(): void {
    this.#status = 0;
    this.#bytes = 0;
  }

  onHeaders(statusCode: number, headers: Buffer[], _resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true; // 1xx: the final head follows.
    this.#status = statusCode;
    let bytes = statusLineBytes + statusText.length;
    for (let index = 0; index < headers.length; index += 2) {
      bytes += headers[index]!.length + headers[index + 1]!.length + 4; // "name: value\r\n"
    }
    this.#bytes = bytes;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#bytes += chunk.length;
    return true;
  }

  onComplete(): void {
    this.#listener.completed(this, this.#status, this.#bytes, undefined);
  }

  onError(error: Error): void {
    this.#listener.completed(this, 0, 0, error);
  }
}
