/**
 * A user-facing error: bad input, a bad flag, a corrupt file. The CLI prints its message as one line and
 * exits with code 2, never a stack trace. Messages name the file/field, the bad value and what would be valid;
 * `kind` says which of a few kinds of problem it is, for programs and tests to match on (zod's issue codes play
 * the same part).
 */
export type ScdErrorKind =
  /** A name nothing is registered under: an env id, policy, dataset format, flag or config key (with suggestions). */
  | "unknown-name"
  /** A value out of range or of the wrong form: a flag, a config field, an argument. */
  | "bad-value"
  /** A file or folder that should exist does not. */
  | "missing-file"
  /** A file that exists but cannot be read as what it should be: truncated, bad checksum, unparsable. */
  | "corrupt-file"
  /** A well-formed checkpoint, export or dataset that does not fit: another format version, config, layout or parameter count. */
  | "incompatible"
  /** An output that exists and may not be replaced. */
  | "output-exists"
  /** The command ran but did not succeed (every inference failed, an evaluation shard failed). */
  | "run-failed";

/** A user-facing error: its message is one line naming the file, field and value; `kind` classifies it; the CLI exits with `exitCode`. */
export class ScdError extends Error {
  constructor(message: string, readonly kind: ScdErrorKind = "bad-value", readonly exitCode = 2) {
    super(message);
    this.name = "ScdError";
  }
}

export function fail(message: string, kind?: ScdErrorKind): never {
  throw new ScdError(message, kind);
}
