import { checkedBytes, type TreeEntry } from "../sandbox/file-streams.js";
import { isObjectName } from "./object-name.js";
import { FILES_PREFIX, totalBytes, type WorkspaceMeta } from "./workspace-meta.js";

/** The bookkeeping folder of /mnt/data (saved state, staged reads): never a user's file, never kept as one. */
export const HIDDEN_DIR = ".codebot";

export function isHidden(relativePath: string): boolean {
  return relativePath === HIDDEN_DIR || relativePath.startsWith(`${HIDDEN_DIR}/`);
}

/** A path of /mnt/data the workspace may keep: not the hidden folder, and a valid object name. */
export function isKeepable(relativePath: string): boolean {
  return !isHidden(relativePath) && isObjectName(FILES_PREFIX + relativePath);
}

/** A thread's caps: WORKSPACE_MAX_MB, SANDBOX_MAX_FILE_MB, WORKSPACE_MAX_FILES. */
export interface WorkspaceCaps {
  maxBytes: number;
  maxFileBytes: number;
  maxFiles: number;
}

/** Which changed files a save takes, and which it leaves out and why. */
export interface SavePlan {
  save: TreeEntry[];
  /** Over SANDBOX_MAX_FILE_MB, or past WORKSPACE_MAX_MB with the rest. */
  noRoom: string[];
  /** New files past WORKSPACE_MAX_FILES. */
  overCount: string[];
}

/**
 * Takes the changed files in order while they fit: a file replaces its kept version (whose size is
 * then freed), a new one needs a free place among maxFiles. A file left out keeps its older saved
 * version, if it has one. Every figure is a finite number of bytes (checked), so no comparison can
 * pass for want of one.
 */
export function planSave(meta: WorkspaceMeta, changed: TreeEntry[], caps: WorkspaceCaps): SavePlan {
  const maxBytes = checkedBytes(caps.maxBytes, "WORKSPACE_MAX_MB");
  const maxFileBytes = checkedBytes(caps.maxFileBytes, "SANDBOX_MAX_FILE_MB");
  let total = checkedBytes(totalBytes(meta), "the workspace's size");
  let count = meta.files.size;
  const plan: SavePlan = { save: [], noRoom: [], overCount: [] };
  for (const file of changed) {
    const size = checkedBytes(file.size, file.path);
    const kept = meta.files.get(file.path);
    const after = total - (kept?.size ?? 0) + size;
    if (!kept && count >= caps.maxFiles) plan.overCount.push(file.path);
    else if (size > maxFileBytes || after > maxBytes) plan.noRoom.push(file.path);
    else {
      plan.save.push(file);
      total = after;
      if (!kept) count++;
    }
  }
  return plan;
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1048576).toFixed(bytes < 10 * 1048576 ? 1 : 0)} MB`;
}

function named(paths: string[]): string {
  return `${paths.slice(0, 5).map((path) => `"${path}"`).join(", ")}${paths.length > 5 ? ` and ${paths.length - 5} more` : ""}`;
}

/** What the people in the thread are told about files a save left out (none: nothing to say). */
export function planNotes(plan: SavePlan, caps: WorkspaceCaps, unnamed: number): string[] {
  const notes: string[] = [];
  if (unnamed) notes.push(`${unnamed === 1 ? "A file has a name" : `${unnamed} files have names`} that can't be saved (control characters, or too long): lost if the session ends.`);
  if (plan.noRoom.length) {
    notes.push(
      `This thread's saved files are limited to ${megabytes(caps.maxBytes)} (and ${megabytes(caps.maxFileBytes)} a file): ` +
        `${named(plan.noRoom)} could not be saved and would be lost if the session ended. Delete files you no longer need to make room.`,
    );
  }
  if (plan.overCount.length) {
    notes.push(
      `This thread keeps at most ${caps.maxFiles.toLocaleString("en-US")} saved files: ${plan.overCount.length === 1 ? "a new file" : `${plan.overCount.length} new files`} (${named(plan.overCount)}) ` +
        "could not be saved and would be lost if the session ended. Delete files you no longer need, or keep many small ones in one archive (zip, tar).",
    );
  }
  return notes;
}
