import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import type { Stats } from "node:fs";
import { lstat, mkdir, open, readdir, rm, stat, unlink, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ExactLength } from "../sandbox/file-streams.js";
import { errorCode, hasObject, ignore, openTemporary, pruneEmptyParents, reason, TEMP_MARK, walkFiles, writeAtomically } from "./directory-files.js";
import { checkObjectName, compareObjectNames } from "./object-name.js";
import { checkWorkspaceId, isWorkspaceId } from "./workspace-id.js";
import type { StoredObject, WorkspaceStore } from "./workspace-store.js";
import { WorkspaceStoreError } from "./workspace-store-error.js";

/** Errors that say the directory as a whole can't be used (permissions, a read-only or full disk, a gone mount). */
const UNAVAILABLE_CODES = new Set(["EACCES", "EPERM", "EROFS", "EIO", "ENOSPC", "EDQUOT", "ENODEV", "ENXIO", "ESTALE", "ETIMEDOUT", "ENOTCONN", "EHOSTDOWN"]);

const DIRECTORY_MODE = 0o700;
/** Chunks a streamed get reads from disk (a few of them in memory at once). */
const READ_CHUNK_BYTES = 1 << 20;

/**
 * Workspaces in a directory of the worker's host: `<root>/<workspaceId>/<name>`. Writes are atomic
 * (a temporary file in the same folder, renamed over the object). Below the root no symlink is
 * followed: any existing path component that is one makes the operation fail (STORE_FAILED).
 * The root itself may be a symlink (an operator's choice) and is created, mode 0700, on first use.
 */
export class DirectoryStore implements WorkspaceStore {
  readonly description: string;
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.description = `directory ${this.root}`;
  }

  async put(workspaceId: string, name: string, body: Buffer): Promise<void> {
    await this.writeObject(workspaceId, name, (handle) => handle.writeFile(body), () => true);
  }

  async putStream(workspaceId: string, name: string, body: Readable, size: number): Promise<void> {
    try {
      // The write stream closes the handle when it ends or fails (a handle a stream refers to can't close before).
      await this.writeObject(workspaceId, name, (handle) => pipeline(body, new ExactLength(size, name), handle.createWriteStream()), () => !body.readableDidRead);
    } catch (error) {
      throw (body.errored as Error | null) ?? error; // the body's own failure (a sandbox's read timing out) is what went wrong
    } finally {
      body.destroy();
    }
  }

  /**
   * Writes an object atomically: a temporary file in its folder, renamed over it. A concurrent
   * delete may remove a folder just made (it prunes empty ones): it is made again while the write
   * can start over (once the temporary file is open in it, the folder is not empty and stays).
   */
  private async writeObject(workspaceId: string, name: string, write: (handle: FileHandle) => Promise<void>, canRetry: () => boolean): Promise<void> {
    const { folder, target, segments } = this.locate(workspaceId, name);
    await this.run("write", async () => {
      await this.ensureRoot();
      for (let attempt = 1; ; attempt++) {
        try {
          await this.makeParents(folder, segments);
          await this.clearTarget(folder, target);
          await writeAtomically(target, await openTemporary(target), write);
          return;
        } catch (error) {
          if (errorCode(error) !== "ENOENT" || attempt >= 3 || !canRetry()) throw error;
        }
      }
    });
  }

  async get(workspaceId: string, name: string): Promise<Buffer | undefined> {
    return this.run("read", async () => {
      const handle = await this.openObject(workspaceId, name);
      if (!handle) return undefined;
      try {
        return await handle.readFile();
      } finally {
        await handle.close();
      }
    });
  }

  async getStream(workspaceId: string, name: string): Promise<{ body: Readable; size: number } | undefined> {
    return this.run("read", async () => {
      const handle = await this.openObject(workspaceId, name);
      if (!handle) return undefined;
      try {
        const { size } = await handle.stat();
        if (size === 0) {
          await handle.close();
          return { body: Readable.from([]), size };
        }
        // Never more than the size it had when opened: a file growing meanwhile can't make it longer.
        return { body: handle.createReadStream({ start: 0, end: size - 1, autoClose: true, highWaterMark: READ_CHUNK_BYTES }), size };
      } catch (error) {
        await handle.close();
        throw error;
      }
    });
  }

  /** The object's regular file, opened without following a link; undefined when absent. */
  private async openObject(workspaceId: string, name: string): Promise<FileHandle | undefined> {
    const { folder, target, segments } = this.locate(workspaceId, name);
    await this.ensureRoot();
    if (!(await this.parentsExist(folder, segments))) return undefined;
    if ((await this.kindOf(folder, target)) !== "file") return undefined;
    let handle: FileHandle;
    try {
      handle = await open(target, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      if (errorCode(error) === "ENOENT") return undefined;
      if (errorCode(error) === "ELOOP") throw this.symlinkRefused(folder, target);
      throw error;
    }
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      return undefined;
    }
    return handle;
  }

  async list(workspaceId: string): Promise<StoredObject[]> {
    const folder = this.folderOf(workspaceId);
    return this.run("list", async () => {
      await this.ensureRoot();
      if ((await this.kindOf(this.root, folder)) !== "directory") return [];
      const objects: StoredObject[] = [];
      for await (const file of walkFiles(folder, "")) {
        const info = await lstat(path.join(folder, file)).catch((error: unknown) => {
          if (errorCode(error) === "ENOENT") return undefined; // deleted meanwhile
          throw error;
        });
        if (info?.isFile()) objects.push({ name: file, size: info.size, modifiedAt: info.mtime });
      }
      return objects.sort((a, b) => compareObjectNames(a.name, b.name));
    });
  }

  async delete(workspaceId: string, names: string[]): Promise<void> {
    const located = names.map((name) => this.locate(workspaceId, name));
    await this.run("delete", async () => {
      await this.ensureRoot();
      for (const { folder, target, segments } of located) {
        if (!(await this.parentsExist(folder, segments))) continue;
        if ((await this.kindOf(folder, target)) !== "file") continue; // absent, or a folder (not an object)
        await unlink(target).catch(ignore("ENOENT"));
        await pruneEmptyParents(folder, path.dirname(target));
      }
    });
  }

  async deleteWorkspace(workspaceId: string): Promise<void> {
    const folder = this.folderOf(workspaceId);
    await this.run("delete", async () => {
      await this.ensureRoot();
      // rm never follows symlinks: a link in the folder (or the folder being one) is removed, not its target.
      await rm(folder, { recursive: true, force: true });
    });
  }

  async listWorkspaces(): Promise<string[]> {
    return this.run("list", async () => {
      await this.ensureRoot();
      const ids: string[] = [];
      for (const entry of await readdir(this.root, { withFileTypes: true })) {
        if (!entry.isDirectory() || !isWorkspaceId(entry.name)) continue;
        if (await hasObject(path.join(this.root, entry.name))) ids.push(entry.name);
      }
      return ids.sort();
    });
  }

  async check(): Promise<void> {
    try {
      await this.ensureRoot();
      const probe = path.join(this.root, `${TEMP_MARK}check-${randomBytes(8).toString("hex")}`);
      await writeAtomically(probe, await openTemporary(probe), (handle) => handle.writeFile(Buffer.from("ok")));
      await unlink(probe);
    } catch (error) {
      if (error instanceof WorkspaceStoreError && error.code === "STORE_UNAVAILABLE") throw error;
      throw new WorkspaceStoreError("STORE_UNAVAILABLE", `${this.description} can't be used: ${reason(error)}`, { cause: error });
    }
  }

  private folderOf(workspaceId: string): string {
    return path.join(this.root, checkWorkspaceId(workspaceId));
  }

  /** The object's path, checked to stay inside its workspace's folder. */
  private locate(workspaceId: string, name: string): { folder: string; target: string; segments: string[] } {
    const folder = this.folderOf(workspaceId);
    const segments = checkObjectName(name).split("/");
    const target = path.resolve(folder, ...segments);
    if (!target.startsWith(folder + path.sep)) throw new WorkspaceStoreError("BAD_NAME", "an object name stays inside its workspace");
    return { folder, target, segments };
  }

  private async ensureRoot(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true, mode: DIRECTORY_MODE });
      if (!(await stat(this.root)).isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    } catch (error) {
      throw new WorkspaceStoreError("STORE_UNAVAILABLE", `${this.description} can't be used: ${reason(error)}`, { cause: error });
    }
  }

  /** The folders from the workspace's down to the object's, made where missing; a file in the way is removed. */
  private async makeParents(folder: string, segments: string[]): Promise<void> {
    let current = this.root;
    for (const segment of [path.basename(folder), ...segments.slice(0, -1)]) {
      current = path.join(current, segment);
      const kind = await this.kindOf(folder, current);
      if (kind === "directory") continue;
      // A file that became a folder of the same name between two checkpoints.
      if (kind !== "absent") await unlink(current).catch(ignore("ENOENT"));
      await mkdir(current, { mode: DIRECTORY_MODE }).catch(ignore("EEXIST"));
      if ((await this.kindOf(folder, current)) !== "directory") throw new WorkspaceStoreError("STORE_FAILED", `${this.description}: a folder of the workspace could not be made`);
    }
  }

  /** Whether every folder down to the object's exists (a file or nothing in the way: the object is absent). */
  private async parentsExist(folder: string, segments: string[]): Promise<boolean> {
    let current = this.root;
    for (const segment of [path.basename(folder), ...segments.slice(0, -1)]) {
      current = path.join(current, segment);
      if ((await this.kindOf(folder, current)) !== "directory") return false;
    }
    return true;
  }

  /** A folder where the object goes (a folder that became a file of the same name) is removed first. */
  private async clearTarget(folder: string, target: string): Promise<void> {
    if ((await this.kindOf(folder, target)) === "directory") await rm(target, { recursive: true, force: true });
  }

  /** What a path is, never following a symlink: a symlink fails the operation. */
  private async kindOf(folder: string, at: string): Promise<"absent" | "directory" | "file" | "other"> {
    let info: Stats;
    try {
      info = await lstat(at);
    } catch (error) {
      if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") return "absent";
      throw error;
    }
    if (info.isSymbolicLink()) throw this.symlinkRefused(folder, at);
    if (info.isDirectory()) return "directory";
    return info.isFile() ? "file" : "other";
  }

  private symlinkRefused(folder: string, at: string): WorkspaceStoreError {
    const where = path.relative(path.dirname(folder), at);
    return new WorkspaceStoreError("STORE_FAILED", `${this.description}: ${where} is a symlink: refused`);
  }

  private async run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof WorkspaceStoreError) throw error;
      const code = UNAVAILABLE_CODES.has(errorCode(error) ?? "") ? "STORE_UNAVAILABLE" : "STORE_FAILED";
      throw new WorkspaceStoreError(code, `${this.description}: can't ${operation}: ${reason(error)}`, { cause: error });
    }
  }
}
