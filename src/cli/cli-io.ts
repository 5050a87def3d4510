/** What a command may do with the terminal; bin/almanac.js gives the real one, tests their own. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Asks a question on the terminal; undefined when there is nobody to answer (no TTY, EOF). */
  ask?(question: string): Promise<string | undefined>;
}

export class UsageError extends Error {
  constructor(
    message: string,
    /** The help to print after the message (defaults to the main help). */
    readonly help?: string,
  ) {
    super(message);
  }
}
