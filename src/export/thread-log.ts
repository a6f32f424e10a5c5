import type { Redis } from "ioredis";
import type { Logger } from "../log.js";
import type { Keys } from "../redis/redis-keys.js";
import type { ExportQuota } from "./export-quota.js";
import { imageRefs, separateImages, storedTurnSchema, withImages, withoutImages, type LogImageStore, type StoredTurn } from "./log-images.js";
import { boundTurn, type ThreadTurn, type ThreadTurnInput } from "./turn-record.js";

/** Turns kept per thread: the oldest go first. */
export const MAX_LOGGED_TURNS = 200;
/** A thread's record in all (its entries' JSON bytes, and its images' bytes in the store): the oldest turns go first past it. */
export const MAX_LOG_BYTES = 16 * 1024 * 1024;
/** The same retention as the thread's conversation memory (ThreadMemory). */
const TTL_SECONDS = 30 * 24 * 3600;
/** Images put in the store at once. */
const PARALLEL_PUTS = 8;

// Appends a turn and drops the oldest ones while the thread holds too many or too many bytes (the
// newest is always kept), keeping the running byte count next to the list; both keys expire together.
// An entry weighs its JSON and the bytes of its images in the store, which it starts with
// ({"imageBytes":N,...}). Returns the count, then the entries dropped (their images are deleted).
const APPEND = `
local function weight(entry)
  return string.len(entry) + tonumber(string.match(entry, '^{"imageBytes":(%d+),') or '0')
end
if redis.call('LLEN', KEYS[1]) == 0 then redis.call('SET', KEYS[2], 0) end
redis.call('RPUSH', KEYS[1], ARGV[1])
local total = redis.call('INCRBY', KEYS[2], weight(ARGV[1]))
local dropped = {}
while redis.call('LLEN', KEYS[1]) > tonumber(ARGV[2]) or (total > tonumber(ARGV[3]) and redis.call('LLEN', KEYS[1]) > 1) do
  local entry = redis.call('LPOP', KEYS[1])
  total = redis.call('DECRBY', KEYS[2], weight(entry))
  table.insert(dropped, entry)
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return {total, dropped}
`;

export interface ThreadLogOptions {
  /** Where images go (the thread's workspace); none: images are left out, with a note. */
  images?: LogImageStore;
  /** EXPORT_LOG_MAX_MB_PER_USER_DAY; none: no daily limit. */
  quota?: ExportQuota;
  log?: Logger;
}

/** A stored entry, if it reads as one. */
function parseEntry(entry: string): StoredTurn | undefined {
  try {
    const parsed = storedTurnSchema.safeParse(JSON.parse(entry));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What each turn of a thread ran and said, as it happened, for exporting the thread as a notebook.
 * Kept in Redis next to the thread's memory (same key prefix, same retention), bounded per turn
 * (turn-record.ts), per thread (MAX_LOGGED_TURNS, MAX_LOG_BYTES) and per person and day (quota).
 * Images are never in Redis: they are kept in the thread's workspace in the store, or left out.
 */
export class ThreadLog {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly options: ThreadLogOptions = {},
  ) {}

  private k(threadKey: string) {
    return { turns: this.keys.thread(threadKey, "export"), bytes: this.keys.thread(threadKey, "export-bytes") };
  }

  /**
   * Records a turn for owner (`platform:userId`, whose daily quota it counts against). Returns notes
   * for the answer: why the turn was not kept. Images that can't be put in the store are left out.
   */
  async record(threadKey: string, input: ThreadTurnInput, owner?: string): Promise<string[]> {
    const images = this.options.images;
    const separated = separateImages(boundTurn(input), images !== undefined);
    const entryOf = (turn: StoredTurn, imageBytes: number) => JSON.stringify({ imageBytes, ...turn });
    let entry = entryOf(separated.turn, separated.imageBytes);
    const refused = owner && (await this.options.quota?.reserve(owner, Buffer.byteLength(entry) + separated.imageBytes));
    if (refused) return [refused];
    if (images && separated.bodies.length) {
      const failed = await this.putImages(threadKey, images, separated.bodies);
      if (failed.size) entry = entryOf(withoutImages(separated.turn, failed), separated.imageBytes - [...failed.values()].reduce((sum, bytes) => sum + bytes, 0));
    }
    const k = this.k(threadKey);
    const [, dropped] = (await this.redis.eval(APPEND, 2, k.turns, k.bytes, entry, String(MAX_LOGGED_TURNS), String(MAX_LOG_BYTES), String(TTL_SECONDS))) as [number, string[]];
    await this.deleteImagesOf(threadKey, dropped);
    return [];
  }

  /**
   * The thread's turns, oldest first, their images fetched back from the store. A turn recorded
   * twice (a worker took it over and delivered it again) counts once, at its last place; an entry
   * that doesn't read as a turn is left out.
   */
  async turns(threadKey: string): Promise<ThreadTurn[]> {
    const stored = await this.redis.lrange(this.k(threadKey).turns, 0, -1);
    const byEvent = new Map<string, StoredTurn>();
    for (const entry of stored) {
      const turn = parseEntry(entry);
      if (!turn) continue;
      byEvent.delete(turn.eventId);
      byEvent.set(turn.eventId, turn);
    }
    const images = this.options.images;
    const fetch = async (ref: string) => images?.get(threadKey, ref);
    const turns: ThreadTurn[] = [];
    for (const turn of byEvent.values()) turns.push(await withImages(turn, fetch));
    return turns;
  }

  /** Forgets the thread's record, its images included. */
  async clear(threadKey: string): Promise<void> {
    const k = this.k(threadKey);
    const stored = this.options.images ? await this.redis.lrange(k.turns, 0, -1) : [];
    await this.redis.del(k.turns, k.bytes);
    await this.deleteImagesOf(threadKey, stored);
  }

  /** Puts the bodies, a few at a time; returns those that failed (name → bytes). */
  private async putImages(threadKey: string, images: LogImageStore, bodies: Array<{ name: string; body: Buffer }>): Promise<Map<string, number>> {
    const failed = new Map<string, number>();
    for (let i = 0; i < bodies.length; i += PARALLEL_PUTS) {
      await Promise.all(
        bodies.slice(i, i + PARALLEL_PUTS).map(({ name, body }) =>
          images.put(threadKey, name, body).catch((error: unknown) => {
            this.options.log?.warn({ err: error }, "could not keep an image of the turn for export");
            failed.set(name, body.length);
          }),
        ),
      );
    }
    return failed;
  }

  /** Deletes the images of entries that left the log (best effort: the store's retention ends the rest). */
  private async deleteImagesOf(threadKey: string, entries: string[]): Promise<void> {
    const images = this.options.images;
    const refs = images ? entries.flatMap((entry) => imageRefs(parseEntry(entry))) : [];
    if (!images || !refs.length) return;
    await images.delete(threadKey, refs).catch((error: unknown) => this.options.log?.warn({ err: error }, "could not delete images of turns that left the export log"));
  }
}
