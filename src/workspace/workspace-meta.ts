import { z } from "zod";

/** The object that describes a workspace, next to its files and saved state. */
export const META_OBJECT = "meta.json";
/** The snapshot of the session's variables saved when it last went to sleep (the user's data: only ever loaded in a sandbox). */
export const STATE_OBJECT = "state/namespace.pkl";
/** Where a file of /mnt/data is kept: `files/<path under /mnt/data>`. */
export const FILES_PREFIX = "files/";

export const workspaceMetaSchema = z.object({
  version: z.literal(1),
  /** The deployment (SANDBOX_NAMESPACE) it belongs to: listing and retention see only their own. */
  namespace: z.string().max(64),
  /** The thread (session id) this workspace belongs to. */
  threadKey: z.string().max(2000),
  /** Each kept file of /mnt/data (relative path) and its size. */
  files: z.record(z.string().max(1200), z.number().int().nonnegative()),
  /** When the files were last saved (ISO). */
  updatedAt: z.string(),
  /** When the variables were saved, if a saved state is waiting to be loaded; null: none. */
  stateAt: z.string().nullable(),
  /** What the last save of variables could not keep ("f (open file)"), or why it kept nothing. */
  stateNotes: z.array(z.string().max(400)).max(50),
  /** When the session last went to sleep; null while it runs or after a hard stop. */
  hibernatedAt: z.string().nullable(),
});
export type WorkspaceMeta = z.infer<typeof workspaceMetaSchema>;

export function newMeta(namespace: string, threadKey: string, now: Date): WorkspaceMeta {
  return { version: 1, namespace, threadKey, files: {}, updatedAt: now.toISOString(), stateAt: null, stateNotes: [], hibernatedAt: null };
}

export function totalBytes(meta: WorkspaceMeta): number {
  return Object.values(meta.files).reduce((sum, size) => sum + size, 0);
}

/** Parses a stored meta object; undefined when absent or unreadable (the workspace is then treated as empty). */
export function parseMeta(body: Buffer | undefined): WorkspaceMeta | undefined {
  if (!body) return undefined;
  try {
    const parsed = workspaceMetaSchema.safeParse(JSON.parse(body.toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
