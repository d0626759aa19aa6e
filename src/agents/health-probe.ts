import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { cpus } from 'node:os';
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
  #host = hostTimes();

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
    const host = hostTimes();
    const hostCpu = hostBusyShare(this.#host, host);
    this.#host = host;
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
      ...(hostCpu === undefined ? {} : { hostCpu }),
    };
    delay.reset();
    return health;
  }

  close(): void {
    this.#delay.disable();
  }
}

/** The host's CPU time so far, all cores together, ms: busy and total. Undefined when the OS does not say (or /proc cannot be read at the open-file limit). */
function hostTimes(): { busy: number; total: number } | undefined {
  try {
    let busy = 0;
    let total = 0;
    for (const { times } of cpus()) {
      busy += times.user + times.nice + times.sys + times.irq;
      total += times.user + times.nice + times.sys + times.irq + times.idle;
    }
    return total > 0 ? { busy, total } : undefined;
  } catch {
    return undefined;
  }
}

/** Share of the host's cores busy between two readings, 0..1 (3 decimals); undefined without both or with no time between them. */
function hostBusyShare(before: { busy: number; total: number } | undefined, after: { busy: number; total: number } | undefined): number | undefined {
  if (before === undefined || after === undefined || after.total <= before.total) return undefined;
  return Math.round(Math.min(1, Math.max(0, (after.busy - before.busy) / (after.total - before.total))) * 1000) / 1000;
}

/** RSS in MB; 0 when the process cannot read it (at the open-file limit, reading /proc fails). */
function rssMb(): number {
  try {
    return Math.round(process.memoryUsage.rss() / 1048576);
  } catch {
    return 0;
  }
}
