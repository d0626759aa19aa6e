import type { Session, SessionFactory, SessionListener, SessionOptions } from '../session.js';
import { WebSocketLink } from './web-socket-link.js';

/** A plain WebSocket user connection: messages in and out as they are. */
class WsSession implements Session {
  readonly #link: WebSocketLink;
  readonly #options: SessionOptions;
  readonly #localAddress: string | undefined;

  constructor(listener: SessionListener, options: SessionOptions, localAddress: string | undefined) {
    this.#options = options;
    this.#localAddress = localAddress;
    this.#link = new WebSocketLink({
      message: (data, isBinary) => listener.message('', data, 0, isBinary),
      closed: (error) => listener.closed(error),
    });
  }

  get isOpen(): boolean {
    return this.#link.isOpen;
  }

  open(url: string): Promise<void> {
    return this.#link.open(url, this.#options, this.#localAddress);
  }

  emit(_event: string, dataJson: string | undefined): void {
    this.#link.send(dataJson ?? '');
  }

  send(data: string | Buffer): void {
    this.#link.send(data);
  }

  close(): void {
    this.#link.close();
  }
}

/** Sessions of the `ws` protocol. */
export function wsSessions(options: SessionOptions): SessionFactory {
  return {
    create: (listener, localAddress) => new WsSession(listener, options, localAddress),
    dispose: () => undefined,
  };
}
