import type { Readable } from "node:stream";
import { pipeline } from "node:stream";
import { bufferSource, ExactLength, readWhole, type FileSource, type TreeEntry } from "../sandbox/file-streams.js";
import type { SandboxSession } from "../sandbox/sandbox-session.js";
import type { ReadOutcome } from "../sandbox/session-files.js";
import { FILES_PREFIX, type KeptFile } from "./workspace-meta.js";
import type { WorkspaceStore } from "./workspace-store.js";

/**
 * Objects up to this size are taken whole and written (or read ahead) up to PARALLEL_OBJECTS at a
 * time, so 10,000 small files don't cost 10,000 store round trips one after the other; larger ones
 * are streamed one at a time. Either way a transfer holds at most PARALLEL_OBJECTS × 256 KiB of them.
 */
const SMALL_OBJECT_BYTES = 256 * 1024;
const PARALLEL_OBJECTS = 8;

/**
 * Streams files out of a session into the store, as the session reads them (SandboxSession.readFiles:
 * exactly these files, within their total size). Resolves when every object is written; the first
 * store failure fails the save (objects already written are extra, never missing ones).
 */
export async function saveFiles(store: WorkspaceStore, workspaceId: string, session: SandboxSession, files: TreeEntry[], maxFileBytes: number): Promise<ReadOutcome> {
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const maxBytes = files.reduce((sum, file) => sum + file.size, 0);
  const outcome = await session.readFiles(files, { maxBytes, maxFileBytes }, async (file) => {
    if (failure) throw failure;
    const name = FILES_PREFIX + file.path;
    if (file.size > SMALL_OBJECT_BYTES) {
      await store.putStream(workspaceId, name, file.body, file.size);
      return;
    }
    const data = await readWhole(file.body); // at most SMALL_OBJECT_BYTES: the archive entry is exactly its listed size
    const writing: Promise<void> = store.put(workspaceId, name, data).then(
      () => void inFlight.delete(writing),
      (error: unknown) => {
        inFlight.delete(writing);
        failure ??= error;
      },
    );
    inFlight.add(writing);
    while (inFlight.size >= PARALLEL_OBJECTS) await Promise.race(inFlight);
  }).finally(() => Promise.all(inFlight));
  if (failure) throw failure;
  return outcome;
}

type Fetched = { path: string; source?: FileSource };

async function opened(store: WorkspaceStore, workspaceId: string, path: string, kept: KeptFile): Promise<Fetched> {
  const got = await store.getStream(workspaceId, FILES_PREFIX + path);
  if (!got) return { path };
  if (got.size > SMALL_OBJECT_BYTES) return { path, source: { path, size: got.size, mtimeMs: kept.mtimeMs, open: async () => got.body } };
  const data = await readWhole(pipeline(got.body, new ExactLength(got.size, path), () => undefined) as Readable);
  return { path, source: bufferSource(path, data, kept.mtimeMs) };
}

/**
 * The kept files as sources for SandboxSession.putFiles, in order: small ones read ahead (at most
 * PARALLEL_OBJECTS), large ones opened when their turn comes and streamed. Paths the store no
 * longer has are added to `missing` and left out.
 */
export async function* keptSources(store: WorkspaceStore, workspaceId: string, files: Array<[string, KeptFile]>, missing: string[]): AsyncGenerator<FileSource> {
  const ahead: Array<{ path: string; kept: KeptFile; fetched?: Promise<Fetched> }> = [];
  let next = 0;
  const fill = () => {
    while (ahead.length < PARALLEL_OBJECTS && next < files.length) {
      const [path, kept] = files[next++]!;
      const item: (typeof ahead)[number] = { path, kept };
      if (kept.size <= SMALL_OBJECT_BYTES) {
        item.fetched = opened(store, workspaceId, path, kept);
        item.fetched.catch(() => undefined); // awaited in its turn; not an unhandled rejection meanwhile
      }
      ahead.push(item);
    }
  };
  fill();
  while (ahead.length) {
    const item = ahead.shift()!;
    const fetched = await (item.fetched ?? opened(store, workspaceId, item.path, item.kept));
    fill();
    if (fetched.source) yield fetched.source;
    else missing.push(fetched.path);
  }
}
