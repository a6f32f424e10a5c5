import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import type { Dirent, Stats } from "node:fs";
import { lstat, mkdir, open, readdir, rename, rm, rmdir, stat, unlink, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { checkObjectName, compareObjectNames, isObjectName } from "./object-name.js";
import { checkWorkspaceId, isWorkspaceId } from "./workspace-id.js";
import type { StoredObject, WorkspaceStore } from "./workspace-store.js";
import { WorkspaceStoreError } from "./workspace-store-error.js";

/** Errors that say the directory as a whole can't be used (permissions, a read-only or full disk, a gone mount). */
const UNAVAILABLE_CODES = new Set(["EACCES", "EPERM", "EROFS", "EIO", "ENOSPC", "EDQUOT", "ENODEV", "ENXIO", "ESTALE", "ETIMEDOUT", "ENOTCONN", "EHOSTDOWN"]);

/**
 * Temporary files carry a backslash, which no object name may hold: they never collide with an
 * object and `list` never shows them.
 */
const TEMP_MARK = ".codebot-partial\\";

const DIRECTORY_MODE = 0o700;
const FILE_MODE = 0o600;

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
    const { folder, target, segments } = this.locate(workspaceId, name);
    await this.run("write", async () => {
      await this.ensureRoot();
      // A concurrent delete may remove a folder just made (it prunes empty ones): make it again.
      for (let attempt = 1; ; attempt++) {
        try {
          await this.makeParents(folder, segments);
          await this.clearTarget(folder, target);
          await writeAtomically(target, body);
          return;
        } catch (error) {
          if (errorCode(error) !== "ENOENT" || attempt >= 3) throw error;
        }
      }
    });
  }

  async get(workspaceId: string, name: string): Promise<Buffer | undefined> {
    const { folder, target, segments } = this.locate(workspaceId, name);
    return this.run("read", async () => {
      await this.ensureRoot();
      if (!(await this.parentsExist(folder, segments))) return undefined;
      const kind = await this.kindOf(folder, target);
      if (kind !== "file") return undefined;
      let handle: FileHandle;
      try {
        handle = await open(target, constants.O_RDONLY | constants.O_NOFOLLOW);
      } catch (error) {
        if (errorCode(error) === "ENOENT") return undefined;
        if (errorCode(error) === "ELOOP") throw this.symlinkRefused(folder, target);
        throw error;
      }
      try {
        if (!(await handle.stat()).isFile()) return undefined;
        return await handle.readFile();
      } finally {
        await handle.close();
      }
    });
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
      await writeAtomically(probe, Buffer.from("ok"));
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

/** Writes a temporary file beside the target, then renames it over the target. */
async function writeAtomically(target: string, body: Buffer): Promise<void> {
  const temporary = path.join(path.dirname(target), `${TEMP_MARK}${randomBytes(8).toString("hex")}`);
  try {
    const handle = await open(temporary, "wx", FILE_MODE);
    try {
      await handle.writeFile(body);
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** Regular files under a folder (relative POSIX names that are object names), never through a symlink. */
async function* walkFiles(folder: string, prefix: string): AsyncGenerator<string> {
  let entries: Dirent[];
  try {
    entries = await readdir(prefix ? path.join(folder, prefix) : folder, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") return; // removed meanwhile
    throw error;
  }
  for (const entry of entries) {
    const name = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) yield* walkFiles(folder, name);
    else if (entry.isFile() && isObjectName(name)) yield name;
  }
}

async function hasObject(folder: string): Promise<boolean> {
  for await (const _ of walkFiles(folder, "")) return true;
  return false;
}

/** Removes the folders from `from` up to (not including) the workspace's folder while they are empty. */
async function pruneEmptyParents(folder: string, from: string): Promise<void> {
  for (let current = from; current.startsWith(folder + path.sep); current = path.dirname(current)) {
    try {
      await rmdir(current);
    } catch (error) {
      if (["ENOTEMPTY", "EEXIST", "ENOENT", "EBUSY"].includes(errorCode(error) ?? "")) return;
      throw error;
    }
  }
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function ignore(code: string): (error: unknown) => void {
  return (error) => {
    if (errorCode(error) !== code) throw error;
  };
}

function reason(error: unknown): string {
  return errorCode(error) ?? (error instanceof Error ? error.message : String(error));
}
