import type { Logger } from "../log.js";
import type { SandboxSession } from "../sandbox/sandbox-session.js";
import { isObjectName } from "./object-name.js";
import { putDataFiles, type DataFile } from "../sandbox/file-transfer.js";
import { isHidden, readDataTree } from "./sandbox-archive.js";
import { FILES_PREFIX, META_OBJECT, newMeta, parseMeta, STATE_OBJECT, totalBytes, type WorkspaceMeta } from "./workspace-meta.js";
import { threadWorkspaceId, isWorkspaceId } from "./workspace-id.js";
import type { WorkspaceStore } from "./workspace-store.js";
import type { ResumeReport } from "./resume-report.js";

/** What changed under /mnt/data in one execution (paths relative to it), as the sandbox reports it. */
export interface FileChanges {
  written: string[];
  deleted: string[];
  /** False when the sandbox could not list every change: the whole folder is synced instead. */
  complete: boolean;
}

export interface ThreadWorkspacesOptions {
  store: WorkspaceStore;
  /** SANDBOX_NAMESPACE: two deployments sharing a store never share a workspace. */
  namespace: string;
  /** WORKSPACE_MAX_MB: files kept per thread, all together. */
  maxBytes: number;
  /** WORKSPACE_MAX_STATE_MB: the largest snapshot of variables kept. */
  maxStateBytes: number;
  /** The largest single file moved out of a sandbox (SANDBOX_MAX_FILE_MB). */
  maxFileBytes: number;
  retentionDays: number;
  log: Logger;
  now?: () => Date;
}

/** A workspace as `codebot sessions` shows it. */
export interface WorkspaceSummary {
  sessionId: string;
  files: number;
  bytes: number;
  updatedAt: Date;
  hibernatedAt?: Date;
  /** A snapshot of variables is waiting to be loaded. */
  hasState: boolean;
  /** When retention deletes it, unless it is used again. */
  expiresAt: Date;
}

const PARALLEL_TRANSFERS = 8;
/** Up to this many changed files are downloaded one by one; more come in one archive. */
const FEW_FILES = 8;
const DAY_MS = 86_400_000;

function megabytes(bytes: number): string {
  return `${(bytes / 1048576).toFixed(bytes < 10 * 1048576 ? 1 : 0)} MB`;
}

async function inBatches<T>(items: T[], task: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += PARALLEL_TRANSFERS) await Promise.all(items.slice(i, i + PARALLEL_TRANSFERS).map(task));
}

/**
 * Durable thread workspaces: a thread's /mnt/data files, saved to the store after every execution
 * that changed them, and a snapshot of its variables saved when its session goes to sleep; both
 * put back in a fresh sandbox when the thread comes back. Snapshots are the user's data: they move
 * as bytes and are only ever loaded inside the thread's own sandbox.
 */
export class ThreadWorkspaces {
  private readonly now: () => Date;

  constructor(private readonly options: ThreadWorkspacesOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** The store's id of a thread's workspace: derived, so no thread key can collide or traverse. */
  private id(sessionId: string): string {
    return threadWorkspaceId(this.options.namespace, sessionId);
  }

  get store(): WorkspaceStore {
    return this.options.store;
  }

  /**
   * Saves what an execution changed. Returns notes for the people in the thread when something
   * could not be saved (the session itself is never affected).
   */
  async checkpoint(sessionId: string, session: SandboxSession, changes: FileChanges): Promise<string[]> {
    const written = changes.written.filter((path) => !isHidden(path));
    const deleted = changes.deleted.filter((path) => !isHidden(path));
    if (changes.complete && !written.length && !deleted.length) return [];
    const id = this.id(sessionId);
    const meta = (await this.meta(id)) ?? newMeta(this.options.namespace, sessionId, this.now());
    const notes: string[] = [];
    if (!changes.complete) return this.fullSync(id, meta, session);
    const keepable = written.filter((path) => isObjectName(FILES_PREFIX + path));
    const unnamed = written.length - keepable.length;
    if (unnamed) notes.push(`${unnamed === 1 ? "A file has a name" : `${unnamed} files have names`} that can't be saved (control characters, or too long): lost if the session ends.`);
    const room = this.options.maxBytes - totalBytes(meta) + keepable.reduce((sum, path) => sum + (meta.files[path] ?? 0), 0);
    const { files, left: refused } = await this.readChanged(session, keepable, room);
    if (refused.length) {
      notes.push(
        `This thread's saved files are limited to ${megabytes(this.options.maxBytes)} (and ${megabytes(this.options.maxFileBytes)} a file): ` +
          `${refused.slice(0, 5).map((path) => `"${path}"`).join(", ")}${refused.length > 5 ? ` and ${refused.length - 5} more` : ""} ` +
          "could not be saved and would be lost if the session ended. Delete files you no longer need to make room.",
      );
    }
    await this.write(id, meta, files, deleted.filter((path) => meta.files[path] !== undefined));
    return notes;
  }

  /** Puts the thread's saved files and variables into a fresh sandbox; undefined when it has none. */
  async restore(sessionId: string, session: SandboxSession): Promise<ResumeReport | undefined> {
    const id = this.id(sessionId);
    const meta = await this.meta(id);
    if (!meta) return undefined;
    const files: DataFile[] = [];
    const missing: string[] = [];
    await inBatches(Object.keys(meta.files), async (path) => {
      const data = await this.options.store.get(id, FILES_PREFIX + path);
      if (data) files.push({ path, data });
      else missing.push(path);
    });
    await putDataFiles(session.container, files);
    let state: ResumeReport["state"] = { kind: "none" };
    const snapshot = meta.stateAt ? await this.options.store.get(id, STATE_OBJECT) : undefined;
    if (snapshot) {
      const outcome = await session.loadState(snapshot);
      state = { kind: "restored", at: meta.stateAt!, failed: outcome.failed.map((failure) => `${failure.name} (${failure.reason})`) };
      // Loaded once: a later hard stop must not bring back these older variables with newer files.
      await this.options.store.delete(id, [STATE_OBJECT]);
    }
    const report: ResumeReport = { files: files.length, bytes: files.reduce((sum, file) => sum + file.data.length, 0), missing, state, stateNotes: meta.stateNotes, filesAt: meta.updatedAt, hibernatedAt: meta.hibernatedAt };
    await this.putMeta(id, { ...meta, stateAt: null, stateNotes: [], hibernatedAt: null, updatedAt: this.now().toISOString() });
    this.options.log.info({ sessionId, files: report.files, bytes: report.bytes, state: state.kind }, "resumed the thread's workspace");
    return report;
  }

  /** Saves the session's variables before it goes to sleep; what could not be kept is remembered for the resume's note. */
  async saveState(sessionId: string, session: SandboxSession): Promise<void> {
    const id = this.id(sessionId);
    const { outcome, data } = await session.saveState(this.options.maxStateBytes);
    const meta = (await this.meta(id)) ?? newMeta(this.options.namespace, sessionId, this.now());
    const skipped = outcome.skipped.map((entry) => `${entry.name} (${entry.reason})`).slice(0, 20);
    if (data) {
      await this.options.store.put(id, STATE_OBJECT, data);
      await this.putMeta(id, { ...meta, stateAt: this.now().toISOString(), stateNotes: skipped, hibernatedAt: this.now().toISOString() });
    } else {
      const largest = outcome.largest.map((entry) => `${entry.name} (${megabytes(entry.bytes)})`).join(", ");
      const why = `the variables together were over the ${megabytes(this.options.maxStateBytes)} that is kept (largest: ${largest})`;
      await this.options.store.delete(id, [STATE_OBJECT]);
      await this.putMeta(id, { ...meta, stateAt: null, stateNotes: [why], hibernatedAt: this.now().toISOString() });
    }
    this.options.log.info({ sessionId, bytes: data?.length ?? 0, saved: outcome.saved.length, skipped: outcome.skipped.length, tooLarge: outcome.tooLarge }, "saved the session's variables");
  }

  /** Deletes the thread's saved files and variables for good (/reset, `sessions kill`). */
  async remove(sessionId: string): Promise<void> {
    await this.options.store.deleteWorkspace(this.id(sessionId));
  }

  async summary(sessionId: string): Promise<WorkspaceSummary | undefined> {
    const meta = await this.meta(this.id(sessionId));
    return meta && this.summarize(meta);
  }

  /** Every workspace of this namespace in the store, newest first. */
  async list(): Promise<WorkspaceSummary[]> {
    const ids = (await this.options.store.listWorkspaces()).filter(isWorkspaceId);
    const metas = await Promise.all(ids.map((id) => this.meta(id)));
    return metas.flatMap((meta) => (meta && meta.namespace === this.options.namespace ? [this.summarize(meta)] : [])).sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime());
  }

  /**
   * Deletes this namespace's workspaces unused for longer than the retention, and workspaces with
   * no readable meta whose every object is that old (left by a crash); returns how many.
   */
  async prune(): Promise<number> {
    const ids = (await this.options.store.listWorkspaces()).filter(isWorkspaceId);
    const cutoff = this.now().getTime() - this.options.retentionDays * DAY_MS;
    let pruned = 0;
    for (const id of ids) {
      const meta = await this.meta(id);
      if (meta && (meta.namespace !== this.options.namespace || new Date(meta.updatedAt).getTime() > cutoff)) continue;
      if (!meta && (await this.options.store.list(id)).some((object) => object.modifiedAt.getTime() > cutoff)) continue;
      await this.options.store.deleteWorkspace(id);
      pruned++;
    }
    if (pruned) this.options.log.info({ pruned, retentionDays: this.options.retentionDays }, "deleted workspaces past their retention");
    return pruned;
  }

  private summarize(meta: WorkspaceMeta): WorkspaceSummary {
    const updatedAt = new Date(meta.updatedAt);
    return {
      sessionId: meta.threadKey,
      files: Object.keys(meta.files).length,
      bytes: totalBytes(meta),
      updatedAt,
      hibernatedAt: meta.hibernatedAt ? new Date(meta.hibernatedAt) : undefined,
      hasState: meta.stateAt !== null,
      expiresAt: new Date(updatedAt.getTime() + this.options.retentionDays * DAY_MS),
    };
  }

  /**
   * The changed files' contents, within room bytes in all: one download each when they are few,
   * one archive of the folder when they are many (2,000 small files are one call, not 2,000).
   */
  private async readChanged(session: SandboxSession, paths: string[], room: number): Promise<{ files: DataFile[]; left: string[] }> {
    if (paths.length > FEW_FILES) return readDataTree(session.container, this.options.maxFileBytes, Math.max(room, 0), new Set(paths));
    const files: DataFile[] = [];
    const left: string[] = [];
    for (const path of paths) {
      const data = await session.download(path, Math.min(this.options.maxFileBytes, Math.max(room, 0))).catch(() => undefined);
      if (!data) left.push(path);
      else {
        room -= data.length;
        files.push({ path, data });
      }
    }
    return { files, left };
  }

  /** Syncs the whole folder: when an execution changed more files than the sandbox could list. */
  private async fullSync(id: string, meta: WorkspaceMeta, session: SandboxSession): Promise<string[]> {
    const { files, left } = await readDataTree(session.container, this.options.maxFileBytes, this.options.maxBytes);
    const named = files.filter((file) => isObjectName(FILES_PREFIX + file.path));
    const present = new Set(files.map((file) => file.path));
    const gone = Object.keys(meta.files).filter((path) => !present.has(path) && !left.includes(path));
    await this.write(id, meta, named, gone);
    return left.length
      ? [`This thread's saved files are limited to ${megabytes(this.options.maxBytes)}: ${left.length} files could not be saved and would be lost if the session ended.`]
      : [];
  }

  /** Puts the new files first, then deletes what is gone, then the meta (a crash between leaves extra files, never missing ones). */
  private async write(id: string, meta: WorkspaceMeta, files: DataFile[], deleted: string[]): Promise<void> {
    await inBatches(files, (file) => this.options.store.put(id, FILES_PREFIX + file.path, file.data));
    if (deleted.length) await this.options.store.delete(id, deleted.map((path) => FILES_PREFIX + path));
    const kept = { ...meta.files };
    for (const path of deleted) delete kept[path];
    for (const file of files) kept[file.path] = file.data.length;
    await this.putMeta(id, { ...meta, files: kept, updatedAt: this.now().toISOString() });
  }

  private async meta(id: string): Promise<WorkspaceMeta | undefined> {
    return parseMeta(await this.options.store.get(id, META_OBJECT));
  }

  private putMeta(id: string, meta: WorkspaceMeta): Promise<void> {
    return this.options.store.put(id, META_OBJECT, Buffer.from(JSON.stringify(meta)));
  }
}
