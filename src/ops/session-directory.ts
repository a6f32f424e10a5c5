import type { Redis } from "ioredis";
import { z } from "zod";
import type { Keys } from "../redis/redis-keys.js";

/*
 * Sessions as the admin page sees them. The bot has no Docker socket (the internet-facing process
 * must not be root on the host), so each worker publishes what it sees, its engines' running
 * sessions and the store's sleeping ones, as a snapshot in Redis with a time to live; the page merges
 * the fresh snapshots. A kill is asked for on a pub/sub channel every worker listens to.
 */

/** How often a worker publishes its snapshot. */
export const SNAPSHOT_EVERY_MS = 10_000;
/** How long a snapshot stays once its worker stops publishing (it stopped, or crashed). */
export const SNAPSHOT_TTL_MS = 30_000;
/** Sessions one snapshot holds at most (running first, then the most recently used): `codebot sessions list` has them all. */
export const SNAPSHOT_MAX_SESSIONS = 500;

const time = z.string().max(40);

export const directoryRowSchema = z.object({
  sessionId: z.string().min(1).max(1000),
  state: z.enum(["running", "sleeping"]),
  /** The fleet host it runs on (SANDBOX_HOSTS); none with one engine. */
  host: z.string().max(200).optional(),
  containerId: z.string().max(100).optional(),
  createdAt: time.optional(),
  status: z.string().max(200).optional(),
  files: z.number().int().nonnegative().optional(),
  bytes: z.number().nonnegative().optional(),
  lastUsedAt: time.optional(),
  deletedAfter: time.optional(),
});
export type DirectoryRow = z.infer<typeof directoryRowSchema>;

export const snapshotSchema = z.object({
  worker: z.string().min(1).max(200),
  at: z.number().int(),
  sessions: z.array(directoryRowSchema),
  /** Sessions left out past SNAPSHOT_MAX_SESSIONS. */
  omitted: z.number().int().nonnegative(),
});
export type SessionSnapshot = z.infer<typeof snapshotSchema>;

export interface SessionDirectory {
  /** Every session of the fresh snapshots, once each (running wins), running first, then the most recently used. */
  sessions: DirectoryRow[];
  /** Workers whose snapshot is fresh. */
  workers: number;
  /** The oldest fresh snapshot's time (none without any). */
  oldestAt?: number;
  omitted: number;
}

const lastUse = (row: DirectoryRow) => row.lastUsedAt ?? row.createdAt ?? "";

/** Running first, then the most recently used; ties by id, so the order is stable. */
export function sortRows(rows: DirectoryRow[]): DirectoryRow[] {
  return rows.sort((a, b) => (a.state === b.state ? 0 : a.state === "running" ? -1 : 1) || lastUse(b).localeCompare(lastUse(a)) || a.sessionId.localeCompare(b.sessionId));
}

/** One row per session id: a running report beats a sleeping one, and a newer snapshot an older one. */
export function mergeSnapshots(snapshots: SessionSnapshot[]): DirectoryRow[] {
  const merged = new Map<string, DirectoryRow>();
  for (const snapshot of [...snapshots].sort((a, b) => a.at - b.at)) {
    for (const row of snapshot.sessions) {
      const known = merged.get(row.sessionId);
      if (!known || row.state === "running" || known.state === "sleeping") merged.set(row.sessionId, { ...known, ...row });
      // A sleeping report of a running session still tells of its saved workspace (files, size).
      else merged.set(row.sessionId, { ...row, ...known });
    }
  }
  return sortRows([...merged.values()]);
}

/** A worker's snapshot, replacing its previous one; it goes stale SNAPSHOT_TTL_MS after `at`. */
export async function publishSnapshot(redis: Redis, keys: Keys, snapshot: SessionSnapshot): Promise<void> {
  const body = JSON.stringify(snapshotSchema.parse(snapshot));
  await redis.multi().set(keys.sessionSnapshot(snapshot.worker), body, "PX", SNAPSHOT_TTL_MS).zadd(keys.sessionReporters, snapshot.at + SNAPSHOT_TTL_MS, snapshot.worker).exec();
}

/** A stopping worker's snapshot goes at once (what it saw is reported by the others). */
export async function withdrawSnapshot(redis: Redis, keys: Keys, worker: string): Promise<void> {
  await redis.multi().del(keys.sessionSnapshot(worker)).zrem(keys.sessionReporters, worker).exec();
}

/** The fresh snapshots of every worker, merged. Snapshots that don't parse (another version's) are left out. */
export async function readSessionDirectory(redis: Redis, keys: Keys, now = Date.now()): Promise<SessionDirectory> {
  const replies = await redis.multi().zremrangebyscore(keys.sessionReporters, "-inf", now).zrange(keys.sessionReporters, 0, -1).exec();
  const workers = z.array(z.string()).catch([]).parse(replies?.[1]?.[1]);
  const raw = workers.length ? await redis.mget(workers.map((worker) => keys.sessionSnapshot(worker))) : [];
  const snapshots = raw.flatMap((body) => {
    if (body === null) return [];
    try {
      const parsed = snapshotSchema.safeParse(JSON.parse(body));
      return parsed.success ? [parsed.data] : [];
    } catch {
      return [];
    }
  });
  const oldestAt = snapshots.length ? Math.min(...snapshots.map((snapshot) => snapshot.at)) : undefined;
  return { sessions: mergeSnapshots(snapshots), workers: snapshots.length, oldestAt, omitted: Math.max(0, ...snapshots.map((snapshot) => snapshot.omitted)) };
}

const killSchema = z.object({ sessionId: z.string().min(1).max(1000) });

/** Asks every worker to end the session as `codebot sessions kill ID` does; returns how many workers heard it. */
export async function requestSessionKill(redis: Redis, keys: Keys, sessionId: string): Promise<number> {
  return redis.publish(keys.sessionKillChannel, JSON.stringify(killSchema.parse({ sessionId })));
}

/** The session a kill request names; undefined for a message that isn't one. */
export function killedSession(message: string): string | undefined {
  try {
    const parsed = killSchema.safeParse(JSON.parse(message));
    return parsed.success ? parsed.data.sessionId : undefined;
  } catch {
    return undefined;
  }
}
