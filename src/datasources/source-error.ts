/**
 * Why a data-source call failed, as a stable code (the sandbox's codebot package raises the
 * DataSourceError subclass of that name) and a sentence for whoever wrote the code. Messages never
 * carry a secret: no connection URL, no header value.
 */
export type SourceErrorCode =
  | "not-allowed" // policy: no source here, a method or path the source doesn't allow
  | "unknown-source" // no source of that name usable in this channel (a name of another channel's too)
  | "bad-request" // malformed arguments
  | "read-only" // a write, refused by the read-only transaction
  | "timeout" // past the source's or the execution's time: cancelled in the database
  | "too-many-rows" // more rows (or bytes) than allowed, with allow_truncated=False
  | "too-large" // an HTTP body over max_bytes
  | "unreachable" // the source doesn't answer, or refused codebot's credentials
  | "query-failed" // the database refused the statement
  | "http-status" // the HTTP source answered an error status
  | "cancelled"; // the execution ended first

export class SourceError extends Error {
  constructor(
    readonly code: SourceErrorCode,
    message: string,
    readonly details: Record<string, string | number> = {},
  ) {
    super(message);
  }
}
