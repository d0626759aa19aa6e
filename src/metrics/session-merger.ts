import type { IntervalMessage, SessionCounters } from '../wire/messages.js';
import { createHistogram, type Histogram } from './histogram.js';
import type { HistogramPayload } from './histogram-payload.js';
import type { SessionPayloads } from './report-payloads.js';
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

  /**
   * Adds an agent's interval, its histograms already parsed (parseReportPayloads);
   * returns the delivery payload (the interval's own merge adds it too), if any.
   */
  add(message: IntervalMessage, payloads: SessionPayloads | undefined): HistogramPayload | undefined {
    const report = message.sessions;
    if (report === undefined || payloads === undefined) return undefined;
    const { connected, joined } = this.totals;
    addSessionCounters(this.totals, report.counters);
    this.totals.connected = connected;
    this.totals.joined = joined;
    payloads.connect.addTo(this.connect);
    payloads.reply.addTo(this.reply);
    payloads.delivery.addTo(this.delivery);
    if (report.counters.allConnectedUs > 0) this.allConnectedUs.set(message.agentId, report.counters.allConnectedUs);
    return payloads.delivery;
  }

  /** Records a merged interval's gauges so totals keep the peaks. */
  gauges(counters: SessionCounters): void {
    this.totals.connected = Math.max(this.totals.connected, counters.connected);
    this.totals.joined = Math.max(this.totals.joined, counters.joined);
  }
}
