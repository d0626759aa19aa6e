import type { RunResult } from './result.js';

/** What the HTML report calls a run's protocol and exchanges, so every heading names its metric. Pure. */

/** The run's protocol as people write it: "Socket.IO", "WebSocket" or "HTTP". */
export function protocolName(result: RunResult): string {
  const protocol = result.scenario.protocol;
  return protocol === 'socketio' ? 'Socket.IO' : protocol === 'ws' ? 'WebSocket' : 'HTTP';
}

/** What one of the run's HTTP exchanges is: a request, or an http step of a user flow. */
export function httpUnit(result: RunResult): 'request' | 'step' {
  return result.summary.model === 'users' ? 'step' : 'request';
}

/** "HTTP request" or "HTTP step" (see httpUnit). */
export function httpNoun(result: RunResult): string {
  return `HTTP ${httpUnit(result)}`;
}
