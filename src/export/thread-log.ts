import type { Redis } from "ioredis";
import type { Keys } from "../queue/queue-keys.js";
import { boundTurn, threadTurnSchema, type ThreadTurn, type ThreadTurnInput } from "./turn-record.js";

/** Turns kept per thread: the oldest go first. */
export const MAX_LOGGED_TURNS = 200;
/** A thread's record in all (as stored, JSON bytes): the oldest turns go first past it. */
export const MAX_LOG_BYTES = 16 * 1024 * 1024;
/** The same retention as the thread's conversation memory (ThreadMemory). */
const TTL_SECONDS = 30 * 24 * 3600;

// Appends a turn and drops the oldest ones while the thread holds too many or too many bytes (the
// newest is always kept), keeping the running byte count next to the list; both keys expire together.
const APPEND = `
if redis.call('LLEN', KEYS[1]) == 0 then redis.call('SET', KEYS[2], 0) end
redis.call('RPUSH', KEYS[1], ARGV[1])
local total = redis.call('INCRBY', KEYS[2], string.len(ARGV[1]))
while redis.call('LLEN', KEYS[1]) > tonumber(ARGV[2]) or (total > tonumber(ARGV[3]) and redis.call('LLEN', KEYS[1]) > 1) do
  total = redis.call('DECRBY', KEYS[2], string.len(redis.call('LPOP', KEYS[1])))
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return total
`;

/**
 * What each turn of a thread ran and said, as it happened, for exporting the thread as a notebook.
 * Kept in Redis next to the thread's memory (same key prefix, same retention), bounded per turn
 * (turn-record.ts) and per thread.
 */
export class ThreadLog {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  private k(threadKey: string) {
    return { turns: this.keys.thread(threadKey, "export"), bytes: this.keys.thread(threadKey, "export-bytes") };
  }

  async record(threadKey: string, turn: ThreadTurnInput): Promise<void> {
    const k = this.k(threadKey);
    await this.redis.eval(APPEND, 2, k.turns, k.bytes, JSON.stringify(boundTurn(turn)), String(MAX_LOGGED_TURNS), String(MAX_LOG_BYTES), String(TTL_SECONDS));
  }

  /**
   * The thread's turns, oldest first. A turn recorded twice (a worker took it over and delivered
   * it again) counts once, at its last place; an entry that doesn't read as a turn is left out.
   */
  async turns(threadKey: string): Promise<ThreadTurn[]> {
    const stored = await this.redis.lrange(this.k(threadKey).turns, 0, -1);
    const byEvent = new Map<string, ThreadTurn>();
    for (const entry of stored) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(entry);
      } catch {
        continue;
      }
      const turn = threadTurnSchema.safeParse(parsed);
      if (!turn.success) continue;
      byEvent.delete(turn.data.eventId);
      byEvent.set(turn.data.eventId, turn.data);
    }
    return [...byEvent.values()];
  }

  async clear(threadKey: string): Promise<void> {
    const k = this.k(threadKey);
    await this.redis.del(k.turns, k.bytes);
  }
}
