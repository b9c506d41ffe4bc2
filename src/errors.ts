/**
 * A user-facing error: bad input, a bad flag, a corrupt file. The CLI prints its message as one line and
 * exits with code 2, never a stack trace. Messages name the file/field, the bad value and what would be valid.
 */
export class ScdError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = "ScdError";
  }
}

export function fail(message: string): never {
  throw new ScdError(message);
}
