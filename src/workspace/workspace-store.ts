import type { Readable } from "node:stream";

/** One object of a workspace: `name` is relative to the workspace (`files/report.csv`, `state/namespace.pkl`). */
export interface StoredObject {
  name: string;
  size: number;
  modifiedAt: Date;
}

/**
 * Where durable workspaces live: a thread's /mnt/data files and namespace snapshot, saved so they
 * survive the loss of its container. Workspace ids are `workspaceIdFor(threadKey)`; object names are
 * checked by `checkObjectName`. Anything else is refused with BAD_NAME before the store is touched.
 * Failures are WorkspaceStoreError: STORE_UNAVAILABLE (can't reach or use the store), STORE_FAILED.
 *
 * Files and snapshots move as streams (putStream, getStream): a store holds a fixed amount of each
 * in memory whatever its size (the directory store a few 1 MiB chunks; the S3 store the parts of a
 * multipart upload in flight, STORE_PART_BYTES each, at most two). put and get are for small
 * objects (the meta).
 *
 * As in a file tree, `a` and `a/b` can't both be kept everywhere: in a directory store a put of one
 * removes the other. So a checkpoint puts the new tree first, then deletes the names that are gone.
 */
export interface WorkspaceStore {
  /** Where it stores, for logs and `codebot sessions` (never a secret): "directory /var/lib/x" or "s3://bucket/prefix". */
  readonly description: string;
  /** Writes the object whole, replacing any (a reader sees the old body or the new one, never a part). */
  put(workspaceId: string, name: string, body: Buffer): Promise<void>;
  /** The object's body; undefined when absent. */
  get(workspaceId: string, name: string): Promise<Buffer | undefined>;
  /**
   * Writes the object from a stream of exactly `size` bytes, replacing any once it is whole: a body
   * that fails, ends short or runs long fails the put (with the body's own error when it failed)
   * and leaves the old object, never a part.
   */
  putStream(workspaceId: string, name: string, body: Readable, size: number): Promise<void>;
  /** The object's body as a stream, and its size; undefined when absent. The caller reads or destroys it. */
  getStream(workspaceId: string, name: string): Promise<{ body: Readable; size: number } | undefined>;
  /** Every object of the workspace, names relative to it, sorted by `compareObjectNames`. */
  list(workspaceId: string): Promise<StoredObject[]>;
  /** Removes these objects; absent names are fine. */
  delete(workspaceId: string, names: string[]): Promise<void>;
  /** Removes everything of the workspace; an absent one is fine. */
  deleteWorkspace(workspaceId: string): Promise<void>;
  /** Ids of the workspaces having at least one object. */
  listWorkspaces(): Promise<string[]>;
  /** Resolves when the store is reachable and usable; else throws WorkspaceStoreError STORE_UNAVAILABLE. */
  check(): Promise<void>;
}
