import { createHash } from "node:crypto";
import { WorkspaceStoreError } from "./workspace-store-error.js";

const WORKSPACE_ID = /^[0-9a-f]{64}$/;

/**
 * The workspace of a thread: the SHA-256 (hex) of its key, so that no two keys share one and no key,
 * whatever it holds, can name a path or key outside the store's own layout.
 */
export function workspaceIdFor(threadKey: string): string {
  return createHash("sha256").update(threadKey, "utf8").digest("hex");
}

/** The workspace of a session (thread) of a deployment (SANDBOX_NAMESPACE): two deployments sharing a store never share one. */
export function threadWorkspaceId(namespace: string, sessionId: string): string {
  return workspaceIdFor(`${namespace}/${sessionId}`);
}

/** 64 lowercase hex digits, as `workspaceIdFor` makes. */
export function isWorkspaceId(value: unknown): value is string {
  return typeof value === "string" && WORKSPACE_ID.test(value);
}

/** The id, or BAD_NAME: every store calls this before touching anything. */
export function checkWorkspaceId(value: string): string {
  if (!isWorkspaceId(value)) throw new WorkspaceStoreError("BAD_NAME", "a workspace id is 64 lowercase hex digits");
  return value;
}
