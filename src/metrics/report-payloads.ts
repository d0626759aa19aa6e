import type { IntervalMessage } from '../wire/messages.js';
import { HistogramPayload } from './histogram-payload.js';

/** The long-connection histograms of one report. */
export interface SessionPayloads {
  readonly connect: HistogramPayload;
  readonly reply: HistogramPayload;
  readonly delivery: HistogramPayload;
}

/**
 * Every histogram of one agent's interval report, validated before any of
 * it is merged: a malformed one throws WireError here, so that a bad
 * report changes nothing (never half of a merge). Once per agent per interval.
 */
export interface ReportPayloads {
  readonly latency: HistogramPayload;
  readonly serviceTime: HistogramPayload;
  readonly queue: HistogramPayload;
  /** Long-connection runs only. */
  readonly sessions: SessionPayloads | undefined;
  /** By request name index; undefined where the entry carried no latency (''), or the report no per-request entries. */
  readonly requests: readonly (HistogramPayload | undefined)[] | undefined;
}

/** Parses (and validates) every histogram of `message`; throws WireError naming the first bad one. */
export function parseReportPayloads(message: IntervalMessage): ReportPayloads {
  const what = `agent ${message.agentId} interval ${message.index}`;
  const { histograms } = message;
  const sessions = message.sessions?.histograms;
  const latency = HistogramPayload.parse(histograms.latency, `${what}: histograms.latency`);
  return {
    latency,
    // Closed model: service time is latency, and the agent sends the same encoding twice; decode it once.
    serviceTime: histograms.serviceTime === histograms.latency ? latency : HistogramPayload.parse(histograms.serviceTime, `${what}: histograms.serviceTime`),
    queue: HistogramPayload.parse(histograms.queue, `${what}: histograms.queue`),
    sessions: sessions === undefined ? undefined : {
      connect: HistogramPayload.parse(sessions.connect, `${what}: sessions.histograms.connect`),
      reply: HistogramPayload.parse(sessions.reply, `${what}: sessions.histograms.reply`),
      delivery: HistogramPayload.parse(sessions.delivery, `${what}: sessions.histograms.delivery`),
    },
    requests: message.requests?.map((entry, index) => (entry.latency === '' ? undefined : HistogramPayload.parse(entry.latency, `${what}: requests[${index}].latency`))),
  };
}
