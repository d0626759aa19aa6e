import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { AgentHealth } from '../wire/messages.js';

/** Resolution of the loop-delay sampler: fine enough to see a 50 ms stall, cheap enough to run always. */
const resolutionMs = 10;

/** Connection counts a workload adds to its health (zeros for request load). */
export interface ConnectGauges {
  readonly connecting: number;
  readonly connectsStarted: number;
  readonly connectsBehind: number;
}

/**
 * Measures the load thread's own health, one interval at a time: event-loop
 * delay (perf_hooks, sampled every 10 ms), the process's CPU share over the
 * interval's wall time, RSS and heap. Create it on the thread whose loop it
 * should watch. `take` is called once per interval; nothing here is on a hot path.
 */
export class HealthProbe {
  readonly #delay: IntervalHistogram = monitorEventLoopDelay({ resolution: resolutionMs });
  #elu = performance.eventLoopUtilization();
  #cpu = process.cpuUsage();
  #wallMs = performance.now();

  constructor() {
    this.#delay.enable();
  }

  /**
   * The interval's health; starts the next interval. `lateMs` is how late
   * the interval is being taken (its timer could not fire on time): a
   * stall the delay sampler may not have seen yet, so it counts as one.
   */
  take(gauges: ConnectGauges, lateMs: number): AgentHealth {
    const now = performance.now();
    const elu = performance.eventLoopUtilization(this.#elu);
    this.#elu = performance.eventLoopUtilization();
    const cpu = process.cpuUsage(this.#cpu);
    const wallMs = Math.max(1, now - this.#wallMs);
    this.#cpu = process.cpuUsage();
    this.#wallMs = now;
    const delay = this.#delay;
    const empty = delay.count === 0;
    // The sampler's own resolution is included in every reading: subtract it so an idle loop reads ~0.
    const ms = (ns: number): number => (empty ? 0 : Math.max(0, Math.round((ns / 1e6 - resolutionMs) * 100) / 100));
    const stallMs = Math.round(Math.max(0, lateMs));
    const health: AgentHealth = {
      loopDelayMs: {
        // A loop stalled through the whole interval took no sample at all: its stall is its delay.
        p50: empty ? stallMs : ms(delay.percentile(50)),
        p99: empty ? stallMs : ms(delay.percentile(99)),
        max: Math.max(stallMs, ms(delay.max)),
      },
      elu: Math.round(elu.utilization * 1000) / 1000,
      cpu: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 1000,
      rssMb: rssMb(),
      heapMb: Math.round(getHeapStatistics().used_heap_size / 1048576),
      connecting: gauges.connecting,
      connectsStarted: gauges.connectsStarted,
      connectsBehind: gauges.connectsBehind,
    };
    delay.reset();
    return health;
  }

  close(): void {
    this.#delay.disable();
  }
}

/** RSS in MB; 0 when the process cannot read it (at the open-file limit, reading /proc fails). */
function rssMb(): number {
  try {
    return Math.round(process.memoryUsage.rss() / 1048576);
  } catch {
    return 0;
  }
}
