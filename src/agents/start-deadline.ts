/**
 * When a load thread that has not said ready is given up on. Building a
 * run costs under a second of CPU (measured: ~0.7 s, mostly loading
 * modules into the new thread), but on a host whose cores other processes
 * keep busy (load average 15–20 on 2 cores) that second took over 10 s of
 * wall time, and a fixed 10 s bound refused a healthy agent as an internal
 * failure: spear blamed itself for the host's load.
 *
 * So a start fails only when the agent process had CPU and still did not
 * get ready (a thread spinning in a loop uses its CPU budget within about
 * `cpuBudgetMs` of wall time), or, starved or blocked, after `wallCapMs`.
 */
export const startLimits = {
  /** Process CPU (every thread) spent since the thread was created, beyond which a start has hung. */
  cpuBudgetMs: 10_000,
  /** Wall time after which a start has failed whatever CPU it got (a thread blocked on I/O uses none). */
  wallCapMs: 60_000,
  /** How often the deadline is checked. */
  checkEveryMs: 500,
} as const;

/** Why a start that began at `startedMs` using `cpuAtStartUs` of process CPU is given up on now, or undefined while it may go on. Pure. */
export function startOverdue(startedMs: number, cpuAtStartUs: number, nowMs: number, cpuNowUs: number): string | undefined {
  const cpuMs = (cpuNowUs - cpuAtStartUs) / 1000;
  if (cpuMs >= startLimits.cpuBudgetMs) return `the load thread did not start after ${Math.round(cpuMs / 1000)} s of CPU`;
  if (nowMs - startedMs >= startLimits.wallCapMs) return `the load thread did not start within ${startLimits.wallCapMs / 1000}s`;
  return undefined;
}

/** This process's CPU time so far (user + system, every thread), µs. */
export function processCpuUs(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/**
 * Calls `expired(reason)` once the start is overdue (see `startOverdue`);
 * returns the function that cancels the watch. Never blocks.
 */
export function watchStart(expired: (reason: string) => void): () => void {
  const startedMs = Date.now();
  const cpuAtStartUs = processCpuUs();
  const timer = setInterval(() => {
    const reason = startOverdue(startedMs, cpuAtStartUs, Date.now(), processCpuUs());
    if (reason === undefined) return;
    clearInterval(timer);
    expired(reason);
  }, startLimits.checkEveryMs);
  return () => clearInterval(timer);
}
