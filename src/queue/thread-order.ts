import type { Redis } from "ioredis";
import type { Keys } from "./queue-keys.js";

const THREAD_TTL_SECONDS = 7 * 24 * 3600;

// Moves the thread's "next turn" past seq, if seq was the current one; returns the job id of the
// turn that may run now.
const ADVANCE = `
local next = tonumber(redis.call('GET', KEYS[1]) or '1')
if next ~= tonumber(ARGV[1]) then return false end
next = next + 1
redis.call('SET', KEYS[1], next, 'EX', ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[1])
return redis.call('HGET', KEYS[2], tostring(next))
`;

/**
 * Turns of one thread run one at a time, in the order they arrived, while different threads run
 * in parallel on any worker. Each turn gets a sequence number when enqueued; a worker runs a turn
 * only when the thread's "next" counter has reached it.
 */
export class ThreadOrder {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  private k(threadKey: string) {
    return {
      seq: this.keys.thread(threadKey, "seq"),
      next: this.keys.thread(threadKey, "next"),
      jobs: this.keys.thread(threadKey, "jobs"),
    };
  }

  /** The next sequence number of the thread, remembered with the job id that holds it. */
  async assign(threadKey: string, jobId: string): Promise<number> {
    const k = this.k(threadKey);
    const seq = await this.redis.incr(k.seq);
    await this.redis
      .multi()
      .hset(k.jobs, String(seq), jobId)
      .expire(k.seq, THREAD_TTL_SECONDS)
      .expire(k.jobs, THREAD_TTL_SECONDS)
      .exec();
    return seq;
  }

  /** The sequence number whose turn it is. */
  async current(threadKey: string): Promise<number> {
    return Number((await this.redis.get(this.k(threadKey).next)) ?? "1");
  }

  /** Marks turn seq done; returns the job id of the thread's next turn, if one is waiting. */
  async advance(threadKey: string, seq: number): Promise<string | undefined> {
    const k = this.k(threadKey);
    const next = await this.redis.eval(ADVANCE, 2, k.next, k.jobs, String(seq), String(THREAD_TTL_SECONDS));
    return typeof next === "string" ? next : undefined;
  }
}
