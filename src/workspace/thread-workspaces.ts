import type { Logger } from "../log.js";
import { megabytes } from "../sandbox/file-transfer.js";
import type { TreeEntry } from "../sandbox/file-streams.js";
import type { SandboxSession } from "../sandbox/sandbox-session.js";
import { isHidden, isKeepable, planNotes, planSave, type WorkspaceCaps } from "./workspace-plan.js";
import { FILES_PREFIX, META_OBJECT, newMeta, parseMeta, serializeMeta, STATE_OBJECT, totalBytes, type WorkspaceMeta } from "./workspace-meta.js";
import { threadWorkspaceId, isWorkspaceId } from "./workspace-id.js";
import type { WorkspaceStore } from "./workspace-store.js";
import type { ResumeReport } from "./resume-report.js";
import { keptSources, saveFiles } from "./workspace-transfer.js";

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
  /** WORKSPACE_MAX_FILES: files kept per thread. */
  maxFiles: number;
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

const DAY_MS = 86_400_000;

/**
 * Durable thread workspaces: a thread's /mnt/data files, saved to the store after every execution
 * that changed them, and a snapshot of its variables saved when its session goes to sleep; both
 * put back in a fresh sandbox when the thread comes back. Snapshots are the user's data: they move
 * as bytes and are only ever loaded inside the thread's own sandbox. Files and snapshots are
 * streamed between the sandbox and the store (workspace-transfer.ts), never held whole: a worker
 * holds a fixed amount per transfer, whatever a thread weighs.
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

  private get caps(): WorkspaceCaps {
    return { maxBytes: this.options.maxBytes, maxFileBytes: this.options.maxFileBytes, maxFiles: this.options.maxFiles };
  }

  /**
   * Saves what an execution changed. Returns notes for the people in the thread when something
   * could not be saved (the session itself is never affected).
   */
  async checkpoint(sessionId: string, session: SandboxSession, changes: FileChanges): Promise<string[]> {
    const visible = changes.written.filter((path) => !isHidden(path));
    const written = visible.filter(isKeepable);
    const deleted = changes.deleted.filter(isKeepable);
    if (changes.complete && !visible.length && !deleted.length) return [];
    const id = this.id(sessionId);
    const meta = (await this.meta(id)) ?? newMeta(this.options.namespace, sessionId, this.now());
    if (!changes.complete) return this.fullSync(id, meta, session);
    const now = await session.statFiles(written);
    const changed = written.flatMap((path) => now.get(path) ?? []);
    // Written, then gone before it could be looked at: gone.
    const gone = [...deleted, ...written.filter((path) => !now.has(path))].filter((path) => meta.files.has(path));
    return this.save(id, meta, session, changed, gone, visible.length - written.length);
  }

  /** Puts the thread's saved files and variables into a fresh sandbox, streamed from the store; undefined when it has none. */
  async restore(sessionId: string, session: SandboxSession): Promise<ResumeReport | undefined> {
    const id = this.id(sessionId);
    const meta = await this.meta(id);
    if (!meta) return undefined;
    const missing: string[] = [];
    const put = meta.files.size ? await session.putFiles(keptSources(this.options.store, id, [...meta.files], missing), { maxBytes: totalBytes(meta) }) : { files: 0, bytes: 0 };
    let state: ResumeReport["state"] = { kind: "none" };
    const snapshot = meta.stateAt ? await this.options.store.getStream(id, STATE_OBJECT) : undefined;
    if (snapshot) {
      const outcome = await session.loadState({ size: snapshot.size, open: async () => snapshot.body }).finally(() => snapshot.body.destroy());
      state = { kind: "restored", at: meta.stateAt!, failed: outcome.failed.map((failure) => `${failure.name} (${failure.reason})`) };
      // Loaded once: a later hard stop must not bring back these older variables with newer files.
      await this.options.store.delete(id, [STATE_OBJECT]);
    }
    const report: ResumeReport = { files: put.files, bytes: put.bytes, missing, state, stateNotes: meta.stateNotes, filesAt: meta.updatedAt, hibernatedAt: meta.hibernatedAt };
    const files = new Map(meta.files);
    for (const path of missing) files.delete(path);
    await this.putMeta(id, { ...meta, files, stateAt: null, stateNotes: [], hibernatedAt: null, updatedAt: this.now().toISOString() });
    this.options.log.info({ sessionId, files: report.files, bytes: report.bytes, state: state.kind }, "resumed the thread's workspace");
    return report;
  }

  /** Saves the session's variables (streamed to the store) before it goes to sleep; what could not be kept is remembered for the resume's note. */
  async saveState(sessionId: string, session: SandboxSession): Promise<void> {
    const id = this.id(sessionId);
    const outcome = await session.saveState(this.options.maxStateBytes, (snapshot) => this.options.store.putStream(id, STATE_OBJECT, snapshot.body, snapshot.size));
    const meta = (await this.meta(id)) ?? newMeta(this.options.namespace, sessionId, this.now());
    const skipped = outcome.skipped.map((entry) => `${entry.name} (${entry.reason})`).slice(0, 20);
    if (!outcome.tooLarge) {
      await this.putMeta(id, { ...meta, stateAt: this.now().toISOString(), stateNotes: skipped, hibernatedAt: this.now().toISOString() });
    } else {
      const largest = outcome.largest.map((entry) => `${entry.name} (${megabytes(entry.bytes)})`).join(", ");
      const why = `the variables together were over the ${megabytes(this.options.maxStateBytes)} that is kept (largest: ${largest})`;
      await this.options.store.delete(id, [STATE_OBJECT]);
      await this.putMeta(id, { ...meta, stateAt: null, stateNotes: [why], hibernatedAt: this.now().toISOString() });
    }
    this.options.log.info({ sessionId, bytes: outcome.tooLarge ? 0 : outcome.bytes, saved: outcome.saved.length, skipped: outcome.skipped.length, tooLarge: outcome.tooLarge }, "saved the session's variables");
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
      files: meta.files.size,
      bytes: totalBytes(meta),
      updatedAt,
      hibernatedAt: meta.hibernatedAt ? new Date(meta.hibernatedAt) : undefined,
      hasState: meta.stateAt !== null,
      expiresAt: new Date(updatedAt.getTime() + this.options.retentionDays * DAY_MS),
    };
  }

  /**
   * Syncs the whole folder, when an execution changed more files than the sandbox could list: a
   * file whose size and mtime are what the store has is not sent again, a kept file no longer there
   * is deleted. The listing goes no further than WORKSPACE_MAX_FILES (and one); kept files beyond
   * it are looked at one by one rather than taken for gone.
   */
  private async fullSync(id: string, meta: WorkspaceMeta, session: SandboxSession): Promise<string[]> {
    const tree = await session.listTree(this.options.maxFiles + 1);
    const listed = new Map(tree.files.filter((file) => isKeepable(file.path)).map((file) => [file.path, file]));
    const unlisted = [...meta.files.keys()].filter((path) => !listed.has(path));
    const beyond = tree.complete ? new Map<string, TreeEntry>() : await session.statFiles(unlisted);
    const gone = unlisted.filter((path) => !beyond.has(path));
    const changed = [...listed.values(), ...beyond.values()].filter((file) => {
      const kept = meta.files.get(file.path);
      return !kept || kept.size !== file.size || kept.mtimeMs !== file.mtimeMs;
    });
    const unnamed = tree.unnamed + tree.files.length - listed.size;
    return this.save(id, meta, session, changed, gone, unnamed);
  }

  /**
   * Saves the changed files that fit the caps (streamed out of the session into the store), then
   * deletes what is gone, then writes the meta (a crash between leaves extra files, never missing
   * ones). Returns the notes on what was left out.
   */
  private async save(id: string, meta: WorkspaceMeta, session: SandboxSession, changed: TreeEntry[], gone: string[], unnamed: number): Promise<string[]> {
    const files = new Map(meta.files);
    for (const path of gone) files.delete(path);
    const plan = planSave({ ...meta, files }, changed, this.caps);
    const outcome = plan.save.length ? await saveFiles(this.options.store, id, session, plan.save, this.options.maxFileBytes) : { read: [], missing: [] };
    for (const file of outcome.read) files.set(file.path, { size: file.size, mtimeMs: file.mtimeMs });
    // Listed, then gone before it was read: gone too.
    const vanished = outcome.missing.filter((path) => files.has(path));
    for (const path of vanished) files.delete(path);
    const deleted = [...gone, ...vanished];
    if (deleted.length) await this.options.store.delete(id, deleted.map((path) => FILES_PREFIX + path));
    if (outcome.read.length || deleted.length) await this.putMeta(id, { ...meta, files, updatedAt: this.now().toISOString() });
    return planNotes(plan, this.caps, unnamed);
  }

  private async meta(id: string): Promise<WorkspaceMeta | undefined> {
    return parseMeta(await this.options.store.get(id, META_OBJECT));
  }

  private putMeta(id: string, meta: WorkspaceMeta): Promise<void> {
    return this.options.store.put(id, META_OBJECT, serializeMeta(meta));
  }
}
