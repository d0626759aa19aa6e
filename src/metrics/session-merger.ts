import type { IntervalMessage, SessionCounters } from '../wire/messages.js';
import { createHistogram, decodeHistogram, type Histogram } from './histogram.js';
import { addSessionCounters, emptySessionCounters } from './session-recorder.js';

/**
 * The long-connection half of the coordinator's merge: counters and the
 * connect, reply and delivery histograms, added exactly. Gauges (connected,
 * joined) are tracked per interval by the caller; here they keep their peak.
 */
export class SessionMerger {
  readonly totals: SessionCounters = emptySessionCounters();
  readonly connect: Histogram = createHistogram();
  readonly reply: Histogram = createHistogram();
  readonly delivery: Histogram = createHistogram();
  /** Per agent: when all its users had connected (coordinator clock, µs), 0 = never. */
  readonly allConnectedUs = new Map<number, number>();

  /** Adds an agent's interval; returns its decoded delivery histogram (the interval's own merge reuses it), if any. */
  add(message: IntervalMessage): Histogram | undefined {
    const report = message.sessions;
    if (report === undefined) return undefined;
    const { connected, joined } = this.totals;
    addSessionCounters(this.totals, report.counters);
    this.totals.connected = connected;
    this.totals.joined = joined;
    this.connect.add(decodeHistogram(report.histograms.connect));
    this.reply.add(decodeHistogram(report.histograms.reply));
    const delivery = decodeHistogram(report.histograms.delivery);
    this.delivery.add(delivery);
    if (report.counters.allConnectedUs > 0) this.allConnectedUs.set(message.agentId, report.counters.allConnectedUs);
    return delivery;
  }

  /** Records a merged interval's gauges so totals keep the peaks. */
  gauges(counters: SessionCounters): void {
    this.totals.connected = Math.max(this.totals.connected, counters.connected);
    this.totals.joined = Math.max(this.totals.joined, counters.joined);
  }
}
