/** Stable codes for what can go wrong around a workspace store. */
export type WorkspaceStoreErrorCode =
  /** The store can't be reached or used at all (network down, endpoint refusing, root not creatable): try later. */
  | "STORE_UNAVAILABLE"
  /** The store answered, but this operation failed (denied, a symlink in the way, a malformed answer). */
  | "STORE_FAILED"
  /** A workspace id or object name that isn't allowed: nothing was read or written. */
  | "BAD_NAME";

export class WorkspaceStoreError extends Error {
  constructor(
    readonly code: WorkspaceStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "WorkspaceStoreError";
  }
}
