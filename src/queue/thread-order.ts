import type { Redis } from "ioredis";
import type { Keys } from "../redis/redis-keys.js";

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

// Takes the thread's next sequence number and records which job holds it, in one step.
const ASSIGN = `
local seq = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], tostring(seq), ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return seq
`;

/**
 * Turns of one thread run one at a time, in the order they arrived, while different threads run
 * in parallel on any worker. Each turn gets a sequence number when enqueued; a worker runs a turn
 * only when the thread's "next" counter has reached it. A number whose job was never added (the
 * enqueue was cut after assign) is skipped by the worker after a short grace (TurnWorker).
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
    return Number(await this.redis.eval(ASSIGN, 2, k.seq, k.jobs, jobId, String(THREAD_TTL_SECONDS)));
  }

  /** The sequence number whose turn it is. */
  async current(threadKey: string): Promise<number> {
    return Number((await this.redis.get(this.k(threadKey).next)) ?? "1");
  }

  /** The job id that holds sequence number seq, if its enqueue got that far. */
  async jobAt(threadKey: string, seq: number): Promise<string | undefined> {
    return (await this.redis.hget(this.k(threadKey).jobs, String(seq))) ?? undefined;
  }

  /** When a worker first saw that seq, the thread's current turn, has no job (epoch ms). */
  async gapSeenAt(threadKey: string, seq: number): Promise<number> {
    const key = this.keys.thread(threadKey, `gap:${seq}`);
    await this.redis.set(key, String(Date.now()), "EX", THREAD_TTL_SECONDS, "NX");
    return Number((await this.redis.get(key)) ?? Date.now());
  }

  /** Marks turn seq done; returns the job id of the thread's next turn, if one is waiting. */
  async advance(threadKey: string, seq: number): Promise<string | undefined> {
    const k = this.k(threadKey);
    const next = await this.redis.eval(ADVANCE, 2, k.next, k.jobs, String(seq), String(THREAD_TTL_SECONDS));
    return typeof next === "string" ? next : undefined;
  }
}
