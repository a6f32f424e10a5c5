import os from "node:os";
import path from "node:path";
import type { WorkspaceConfig } from "../config.js";
import { DirectoryStore } from "./directory-store.js";
import { S3Store } from "./s3-store.js";
import type { WorkspaceStore } from "./workspace-store.js";

/**
 * The workspace store as configured by WORKSPACE_STORE: `none` (durable workspaces off: undefined),
 * `s3://bucket/prefix` (S3 or a compatible store, with WORKSPACE_S3_*), or a directory: absolute,
 * relative to the working directory, or under the home directory (`~/…`).
 */
export function createWorkspaceStore(config: WorkspaceConfig): WorkspaceStore | undefined {
  const where = config.WORKSPACE_STORE;
  if (where === "none") return undefined;
  if (where.startsWith("s3://")) {
    const location = where.slice("s3://".length);
    const slash = location.indexOf("/");
    return new S3Store({
      bucket: slash === -1 ? location : location.slice(0, slash),
      prefix: slash === -1 ? "" : location.slice(slash + 1),
      region: config.WORKSPACE_S3_REGION,
      endpoint: config.WORKSPACE_S3_ENDPOINT,
      forcePathStyle: config.WORKSPACE_S3_FORCE_PATH_STYLE,
    });
  }
  return new DirectoryStore(expandHome(where));
}

function expandHome(directory: string): string {
  if (directory === "~") return os.homedir();
  if (directory.startsWith("~/")) return path.join(os.homedir(), directory.slice(2));
  return path.resolve(directory);
}
