/**
 * A failed exchange or session with a stable code (`SPEAR_*`, `UPGRADE_<status>`)
 * for failures spear detects itself; errno failures keep Node's own errors.
 * Classified by code (metrics/error-kind.ts), never by message.
 */
export class ExchangeError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}
