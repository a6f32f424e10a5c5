import type { Redis } from "ioredis";
import type { Keys } from "../redis/redis-keys.js";

const DAY_SECONDS = 24 * 3600;
const THREAD_TTL_SECONDS = 7 * DAY_SECONDS;
/**
 * A claim whose enqueue hasn't confirmed after this long was cut (its process or connection died
 * between claiming and adding the job): a re-delivery of the event may take it over. A healthy
 * enqueue confirms within milliseconds; concurrent re-deliveries inside this window are duplicates.
 */
export const STALE_CLAIM_MS = 5000;

/*
 * An event's claim, in one key: "p:<seq>:<ms>" while its enqueue is under way, "q:<seq>" once its
 * job is added. The sequence number is its place in the thread (ThreadOrder); workers read it here,
 * so a claim taken over by a re-delivery moves the job to its new place whichever add landed.
 */

// Claims the event and takes its place in the thread in one step.
// KEYS: event, thread seq, thread jobs. ARGV: job id, now ms, stale ms, event ttl, thread ttl.
// Returns {"new", seq}, {"dup"} or {"stale", seq} (a cut enqueue's claim, left as it was).
const CLAIM = `
local v = redis.call('GET', KEYS[1])
if v then
  local seq, at = string.match(v, '^p:(%d+):(%d+)$')
  if not seq then return {'dup'} end
  if tonumber(ARGV[2]) - tonumber(at) < tonumber(ARGV[3]) then return {'dup'} end
  return {'stale', seq}
end
local seq = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[3], tostring(seq), ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('EXPIRE', KEYS[3], ARGV[5])
redis.call('SET', KEYS[1], 'p:' .. seq .. ':' .. ARGV[2], 'EX', ARGV[4])
return {'new', tostring(seq)}
`;

// Takes over a stale claim (still exactly as it was read): its old place becomes a gap that
// workers skip, and the event gets the thread's next place.
// KEYS: event, thread seq, thread jobs. ARGV: stale value, old seq, job id, now ms, event ttl, thread ttl.
const TAKE_OVER = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
if redis.call('HGET', KEYS[3], ARGV[2]) == ARGV[3] then redis.call('HDEL', KEYS[3], ARGV[2]) end
local seq = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[3], tostring(seq), ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('EXPIRE', KEYS[3], ARGV[6])
redis.call('SET', KEYS[1], 'p:' .. seq .. ':' .. ARGV[4], 'EX', ARGV[5])
return seq
`;

// Confirms our own claim (pending with our seq) as queued; anything else is left alone.
const CONFIRM = `
local seq = string.match(redis.call('GET', KEYS[1]) or '', '^p:(%d+):')
if seq ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], 'q:' .. seq, 'EX', ARGV[2])
return 1
`;

// Releases our own pending claim, so an immediate re-delivery may enqueue the event.
const RELEASE = `
local seq = string.match(redis.call('GET', KEYS[1]) or '', '^p:(%d+):')
if seq ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`;

export type Claim = { kind: "new"; seq: number } | { kind: "duplicate" } | { kind: "stale"; seq: number };

/** A parsed claim value: its place in the thread, and whether its job was added. */
function parse(value: string | null): { seq?: number; pending: boolean; at?: number } | undefined {
  if (value === null) return undefined;
  const pending = /^p:(\d+):(\d+)$/.exec(value);
  if (pending) return { seq: Number(pending[1]), pending: true, at: Number(pending[2]) };
  const queued = /^q:(\d+)$/.exec(value);
  return { seq: queued ? Number(queued[1]) : undefined, pending: false };
}

/**
 * Platform events are claimed once (a re-delivered event is a duplicate) in the same step that
 * gives them their place in the thread, so no interruption of an enqueue can lose an event or
 * stop a thread: a claim cut before its job was added is taken over by the event's re-delivery.
 */
export class EventClaims {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly now: () => number = Date.now,
  ) {}

  private threadKeys(threadKey: string): [string, string] {
    return [this.keys.thread(threadKey, "seq"), this.keys.thread(threadKey, "jobs")];
  }

  async claim(jobId: string, threadKey: string): Promise<Claim> {
    const [kind, seq] = (await this.redis.eval(CLAIM, 3, this.keys.event(jobId), ...this.threadKeys(threadKey), jobId, this.now(), STALE_CLAIM_MS, DAY_SECONDS, THREAD_TTL_SECONDS)) as [string, string?];
    if (kind === "new") return { kind, seq: Number(seq) };
    if (kind === "stale") return { kind, seq: Number(seq) };
    return { kind: "duplicate" };
  }

  /** Takes over a stale claim; the event's new place, or undefined when another delivery took it first. */
  async takeOver(jobId: string, threadKey: string, stale: { seq: number }): Promise<number | undefined> {
    const value = await this.redis.get(this.keys.event(jobId));
    const parsed = parse(value);
    if (value === null || !parsed?.pending || parsed.seq !== stale.seq) return undefined;
    const seq = await this.redis.eval(TAKE_OVER, 3, this.keys.event(jobId), ...this.threadKeys(threadKey), value, stale.seq, jobId, this.now(), DAY_SECONDS, THREAD_TTL_SECONDS);
    return seq === null ? undefined : Number(seq);
  }

  /** Marks the claim queued (its job was added); false if it isn't ours any more. */
  async confirm(jobId: string, seq: number): Promise<boolean> {
    return (await this.redis.eval(CONFIRM, 1, this.keys.event(jobId), seq, DAY_SECONDS)) === 1;
  }

  /** Drops our pending claim (the job was not added), so a re-delivery is not taken for a duplicate. */
  async release(jobId: string, seq: number): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.keys.event(jobId), seq);
  }

  /** Whether a delivery of this event now would be a duplicate: claimed, and not a stale pending claim. */
  async seen(jobId: string): Promise<boolean> {
    const parsed = parse(await this.redis.get(this.keys.event(jobId)));
    if (!parsed) return false;
    return !parsed.pending || this.now() - (parsed.at ?? 0) < STALE_CLAIM_MS;
  }

  /** The event's place in its thread as claimed now (it moves when a cut enqueue is taken over). */
  async seqOf(jobId: string): Promise<number | undefined> {
    return parse(await this.redis.get(this.keys.event(jobId)))?.seq;
  }
}
