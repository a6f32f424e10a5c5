import { z } from "zod";

/** The object that describes a workspace, next to its files and saved state. */
export const META_OBJECT = "meta.json";
/** The snapshot of the session's variables saved when it last went to sleep (the user's data: only ever loaded in a sandbox). */
export const STATE_OBJECT = "state/namespace.pkl";
/** Where a file of /mnt/data is kept: `files/<path under /mnt/data>`. */
export const FILES_PREFIX = "files/";

/** A kept file: its size (apparent: a sparse file at its full length) and its mtime in the sandbox when saved (absent in older workspaces). */
export interface KeptFile {
  size: number;
  mtimeMs?: number;
}

/**
 * A workspace's bookkeeping. Its files are a Map: their names come from the sandbox, and
 * `constructor`, `__proto__`, `toString` or `hasOwnProperty` are ordinary file names, never an
 * object's inherited members.
 */
export interface WorkspaceMeta {
  version: 2;
  /** The deployment (SANDBOX_NAMESPACE) it belongs to: listing and retention see only their own. */
  namespace: string;
  /** The thread (session id) this workspace belongs to. */
  threadKey: string;
  /** Each kept file of /mnt/data, by its path relative to it. */
  files: Map<string, KeptFile>;
  /** When the files were last saved (ISO). */
  updatedAt: string;
  /** When the variables were saved, if a saved state is waiting to be loaded; null: none. */
  stateAt: string | null;
  /** What the last save of variables could not keep ("f (open file)"), or why it kept nothing. */
  stateNotes: string[];
  /** When the session last went to sleep; null while it runs or after a hard stop. */
  hibernatedAt: string | null;
}

const MAX_PATH = 1200;
const size = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** Stored as a list (version 2); version 1 kept an object of sizes by path. */
const storedFiles = z.union([
  z.array(z.object({ path: z.string().min(1).max(MAX_PATH), size, mtimeMs: z.number().int().safe().optional() })).max(10_000_000),
  z.record(z.string().max(MAX_PATH), size),
]);

const storedMetaSchema = z.object({
  version: z.union([z.literal(1), z.literal(2)]),
  namespace: z.string().max(64),
  threadKey: z.string().max(2000),
  files: storedFiles,
  updatedAt: z.string(),
  stateAt: z.string().nullable(),
  stateNotes: z.array(z.string().max(400)).max(50),
  hibernatedAt: z.string().nullable(),
});

export function newMeta(namespace: string, threadKey: string, now: Date): WorkspaceMeta {
  return { version: 2, namespace, threadKey, files: new Map(), updatedAt: now.toISOString(), stateAt: null, stateNotes: [], hibernatedAt: null };
}

/** The kept files' bytes in all: a sum of validated sizes, so always a finite number. */
export function totalBytes(meta: WorkspaceMeta): number {
  let total = 0;
  for (const file of meta.files.values()) total += file.size;
  return total;
}

/** Parses a stored meta object; undefined when absent or unreadable (the workspace is then treated as empty). */
export function parseMeta(body: Buffer | undefined): WorkspaceMeta | undefined {
  if (!body) return undefined;
  let parsed;
  try {
    parsed = storedMetaSchema.safeParse(JSON.parse(body.toString("utf8")));
  } catch {
    return undefined;
  }
  if (!parsed.success) return undefined;
  const stored = parsed.data;
  const files = new Map<string, KeptFile>();
  if (Array.isArray(stored.files)) for (const file of stored.files) files.set(file.path, file.mtimeMs === undefined ? { size: file.size } : { size: file.size, mtimeMs: file.mtimeMs });
  else for (const [path, bytes] of Object.entries(stored.files)) files.set(path, { size: bytes });
  return { ...stored, version: 2, files };
}

/** The meta as stored: version 2, its files as a list. */
export function serializeMeta(meta: WorkspaceMeta): Buffer {
  const files = [...meta.files].map(([path, file]) => ({ path, ...file }));
  return Buffer.from(JSON.stringify({ ...meta, version: 2, files }));
}
