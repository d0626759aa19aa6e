/**
 * Errors spear reports to its users. Every failure a user can cause or meet
 * (a broken scenario, a dead agent, a threshold) is a SpearError with a stable
 * code and the exit code the CLI uses for it. Callers classify by `code`,
 * never by message; messages are one line and name the cause and the fix.
 */

/** Named process exit codes. Stable: CI scripts depend on them. */
export const ExitCode = {
  ok: 0,
  /** A bug in spear: an unexpected exception. */
  internal: 1,
  /** Bad command-line usage. */
  usage: 2,
  /** The scenario file is missing, unparsable or invalid. */
  scenario: 3,
  /** The plan cannot run on this host (open-file limit, ports). */
  preflight: 4,
  /** An agent failed to start or every agent was lost. */
  agent: 5,
  /**
   * The result (or a report) could not be written where asked (a full disk,
   * a vanished directory, a closed pipe). `spear run` printed its summary
   * first and saved the result elsewhere, named in the error.
   */
  output: 6,
  /**
   * Nothing succeeded: not one HTTP response (or, in a ws/socketio run, not
   * one user connected), or the run was stopped early by `abortOnFail`. The
   * summary and the result are still written; one line on stderr says why.
   * Takes precedence over thresholds (99); 130, 5 and 6 take precedence over it.
   */
  noSuccess: 7,
  /** The run was interrupted (Ctrl-C); a result was still written. */
  interrupted: 130,
  /** The run completed but a threshold failed (k6 uses the same number). */
  thresholds: 99,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Base class: a user-facing failure with a stable code. */
export class SpearError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;

  constructor(code: string, message: string, exitCode: ExitCodeValue) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Bad command-line flags or values. */
export class UsageError extends SpearError {
  constructor(message: string) {
    super('E_USAGE', message, ExitCode.usage);
  }
}

/**
 * A scenario that cannot be loaded or fails validation. `location` is
 * `file:line` when known; the message then reads `file:line: path: problem`.
 */
export class ScenarioError extends SpearError {
  readonly path: string;
  readonly location: string | undefined;

  constructor(path: string, problem: string, location?: string) {
    const where = path === '' ? problem : `${path}: ${problem}`;
    super('E_SCENARIO', location === undefined ? where : `${location}: ${where}`, ExitCode.scenario);
    this.path = path;
    this.location = location;
  }
}

/** The host cannot hold the plan (open files, ephemeral ports). */
export class PreflightError extends SpearError {
  constructor(message: string) {
    super('E_PREFLIGHT', message, ExitCode.preflight);
  }
}

/** An agent failed, broke the protocol, or could not be started. */
export class AgentError extends SpearError {
  constructor(message: string) {
    super('E_AGENT', message, ExitCode.agent);
  }
}

/** A coordinator↔agent message that does not match the protocol. */
export class WireError extends SpearError {
  constructor(message: string) {
    super('E_WIRE', message, ExitCode.agent);
  }
}

/**
 * An output path that cannot take the result (`--out` to a missing or
 * unwritable directory, to a directory itself). Raised before any load, so
 * nothing is lost: a usage error.
 */
export class OutputPathError extends SpearError {
  /** The problem alone, without the flag and path. */
  readonly problem: string;

  constructor(flag: string, file: string, problem: string) {
    super('E_OUTPUT_PATH', `${flag} ${file}: ${problem}`, ExitCode.usage);
    this.problem = problem;
  }
}

/**
 * Writing the result failed after the run. `savedTo` is where spear kept it
 * instead (in the OS temp directory or the home directory), undefined when
 * that failed too; the message names both.
 */
export class ResultWriteError extends SpearError {
  readonly savedTo: string | undefined;

  constructor(message: string, savedTo: string | undefined) {
    super('E_RESULT_WRITE', message, ExitCode.output);
    this.savedTo = savedTo;
  }
}

/** `spear report` could not write its output file. */
export class ReportWriteError extends SpearError {
  constructor(message: string) {
    super('E_REPORT_WRITE', message, ExitCode.output);
  }
}

/** A result file given to `spear report` that is missing, damaged, or not a spear result this version reads. */
export class ResultReadError extends SpearError {
  constructor(code: 'E_RESULT_READ' | 'E_RESULT_VERSION', message: string) {
    super(code, message, ExitCode.usage);
  }
}

/** Narrows an unknown thrown value to a message, for the one place that prints it. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The `code` of a Node system error (`ENOSPC`, `EACCES`…), or undefined for anything else. */
export function errnoOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
