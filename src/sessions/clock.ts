import { performance } from 'node:perf_hooks';

/**
 * An agent's view of the coordinator's clock, in integer microseconds since
 * the epoch: this host's monotonic-backed wall clock minus the offset the
 * coordinator estimated (NTP-style, from ping exchanges). Every time that
 * crosses agents (broadcast stamps, membership changes) is in this clock.
 */
export class CoordinatorClock {
  /** This host's clock minus the coordinator's, in µs; 0 until estimated. */
  #offsetUs = 0;
  /** Half the round trip of the sample the offset came from: the bound on its error. */
  uncertaintyUs = Number.POSITIVE_INFINITY;
  readonly #skewUs: number;

  /** `skewMs` shifts this host's clock: a test-only setting (SPEAR_TEST_CLOCK_SKEW_MS) to prove the correction. */
  constructor(skewMs = 0) {
    this.#skewUs = Math.round(skewMs * 1000);
  }

  /** This host's own clock, µs (what ping replies carry). */
  localUs(): number {
    return Math.round((performance.timeOrigin + performance.now()) * 1000) + this.#skewUs;
  }

  /** The coordinator's clock, µs. Hot path: no allocation. */
  nowUs(): number {
    return this.localUs() - this.#offsetUs;
  }

  /** Applies a new estimate from the coordinator. */
  correct(offsetUs: number, uncertaintyUs: number): void {
    this.#offsetUs = offsetUs;
    this.uncertaintyUs = uncertaintyUs;
  }
}

/**
 * The skew a test asked for agent `agentId`, in ms (0 normally):
 * SPEAR_TEST_CLOCK_SKEW_MS is a comma-separated list, one entry per agent id.
 */
export function testClockSkewMs(agentId: number, environment: NodeJS.ProcessEnv = process.env): number {
  const raw = environment.SPEAR_TEST_CLOCK_SKEW_MS;
  if (raw === undefined || raw === '') return 0;
  const value = Number(raw.split(',')[agentId] ?? '0');
  return Number.isFinite(value) ? value : 0;
}

/** This host's wall clock in integer µs (monotonic-backed): what the coordinator stamps pings with. */
export function hostClockUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
