import { ExchangeError } from '../protocols/exchange-error.js';
import { frameArguments, SocketPacket, type SocketFrame } from '../protocols/socketio/packets.js';
import { matches, type CompiledStep } from './compiled-flow.js';

/** An `expect` step as one user waits for it: `match` and `contains` rendered when the step started. */
export interface Expectation {
  readonly step: Extract<CompiledStep, { kind: 'expect' }>;
  /** undefined: no match asked. */
  readonly match: unknown;
  readonly contains: Buffer | string | undefined;
}

/** A message the expectation takes, with its payload (parsed only when match or capture needs it). */
export interface Taken {
  readonly value: unknown;
}

const takenUnparsed: Taken = { value: undefined };

/** Shared by every judgement: payloads are decoded synchronously, one at a time. */
const scratch: SocketFrame = { type: SocketPacket.event, namespace: '/', ackId: -1, event: '', payloadStart: 0, attachments: 0 };

/**
 * Judges one message against an expectation: undefined when it is not the
 * one awaited (skipped), `Taken` when it satisfies it, an SPEAR_EXPECT_MISMATCH
 * error when it is a Socket.IO event of the awaited name that fails `match`
 * (an answer, and a wrong one; a plain WebSocket message that fails `match`
 * may be someone else's traffic and is skipped). `contains` searches the raw
 * bytes from `payloadStart`. Called per message while an expect waits:
 * allocates only for a message taken or failed.
 */
export function judge(expectation: Expectation, socketio: boolean, event: string, frame: Buffer, payloadStart: number): Taken | ExchangeError | undefined {
  const spec = expectation.step.step;
  if (spec.event !== undefined && spec.event !== event) return undefined;
  if (expectation.contains !== undefined && frame.indexOf(expectation.contains, payloadStart) < 0) return undefined;
  if (expectation.match === undefined && expectation.step.capture.length === 0) return takenUnparsed;
  const value = payloadOf(socketio, frame, payloadStart);
  if (expectation.match !== undefined && !matches(value, expectation.match)) {
    if (spec.event === undefined) return undefined;
    return new ExchangeError('SPEAR_EXPECT_MISMATCH', `${event}: got ${JSON.stringify(value)?.slice(0, 200)}`);
  }
  return { value };
}

/**
 * The first argument of a Socket.IO event, or a WebSocket message (text or
 * binary, decoded as UTF-8) parsed as JSON, or its text when it is not JSON.
 */
function payloadOf(socketio: boolean, frame: Buffer, payloadStart: number): unknown {
  if (socketio) {
    scratch.payloadStart = payloadStart;
    return frameArguments(frame, scratch)?.[0];
  }
  const text = frame.toString('utf8', payloadStart);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
