import type { LogImageStore } from "./log-images.js";
import { threadWorkspaceId } from "../workspace/workspace-id.js";
import type { WorkspaceStore } from "../workspace/workspace-store.js";

/** Where a thread's export images are kept in its workspace: beside files/, state/ and meta.json, never among them. */
export const EXPORT_PREFIX = "export/";

/**
 * The export log's images in the thread's own workspace of the store, so they go with it: deleted by
 * /reset and `sessions kill`, and by the store's retention with the rest of the workspace.
 */
export function workspaceLogImages(store: WorkspaceStore, namespace: string): LogImageStore {
  const id = (threadKey: string) => threadWorkspaceId(namespace, threadKey);
  return {
    put: (threadKey, name, body) => store.put(id(threadKey), EXPORT_PREFIX + name, body),
    get: (threadKey, name) => store.get(id(threadKey), EXPORT_PREFIX + name),
    delete: (threadKey, names) => store.delete(id(threadKey), names.map((name) => EXPORT_PREFIX + name)),
  };
}
