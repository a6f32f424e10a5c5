import type { Redis } from "ioredis";
import type { Keys } from "../redis/redis-keys.js";
import { lastRunSchema, ownerOf, scheduleSchema, type LastRun, type RunOutcome, type Schedule, type ScheduleView } from "./schedule-record.js";
import type { ScheduleScope } from "./schedules.js";

// Keeps a new schedule unless its id is taken or its owner has max already, in one step.
// KEYS: schedule, thread set, owner set, all. ARGV: id, record JSON, max, created at.
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {'taken', 0} end
local count = redis.call('SCARD', KEYS[3])
if count >= tonumber(ARGV[3]) then return {'limit', count} end
redis.call('HSET', KEYS[1], 'record', ARGV[2], 'paused', '0', 'failures', '0')
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
return {'ok', count + 1}
`;

// Records a run's outcome. KEYS: schedule. ARGV: outcome, last run JSON, max failures.
// Returns {failures, pausedNow} or false when the schedule is gone.
const RECORD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'last', ARGV[2])
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
if ARGV[1] == 'answered' then
  failures = 0
elseif ARGV[1] == 'failed' or ARGV[1] == 'refused' then
  failures = failures + 1
end
redis.call('HSET', KEYS[1], 'failures', failures)
if failures >= tonumber(ARGV[3]) and redis.call('HGET', KEYS[1], 'paused') ~= '1' then
  redis.call('HSET', KEYS[1], 'paused', '1')
  return {failures, 1}
end
return {failures, 0}
`;

// Sets a schedule's paused flag (and clears its failures when resumed); 0 when it is gone.
const SET_PAUSED = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'paused', ARGV[1])
if ARGV[1] == '0' then redis.call('HSET', KEYS[1], 'failures', '0') end
return 1
`;

/** A schedule as kept: its record, and how it stands (no next run: that is the job scheduler's). */
export type StoredSchedule = Omit<ScheduleView, "next">;

/** Schedules in Redis: one hash each, and sets of ids per thread, per owner and overall (see src/redis/redis-keys.ts). */
export class ScheduleStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** "taken": the id exists (pick another); "limit": the owner has max schedules already (count). */
  async create(schedule: Schedule, max: number): Promise<{ status: "ok" | "taken" | "limit"; count: number }> {
    const k = this.keys;
    const [status, count] = (await this.redis.eval(CREATE, 4, k.schedule(schedule.id), k.threadSchedules(schedule.threadKey), k.ownerSchedules(ownerOf(schedule)), k.allSchedules, schedule.id, JSON.stringify(schedule), max, schedule.createdAt)) as [
      "ok" | "taken" | "limit",
      number,
    ];
    return { status, count: Number(count) };
  }

  async get(id: string): Promise<StoredSchedule | undefined> {
    return parseStored(await this.redis.hgetall(this.keys.schedule(id)));
  }

  /** The scope's schedules, oldest first (ids whose schedule is gone are left out). */
  async list(scope: ScheduleScope): Promise<StoredSchedule[]> {
    const k = this.keys;
    const ids = scope === "all" ? await this.redis.zrange(k.allSchedules, 0, -1) : await this.redis.smembers("thread" in scope ? k.threadSchedules(scope.thread) : k.ownerSchedules(scope.owner));
    if (!ids.length) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(k.schedule(id));
    const found = ((await pipeline.exec()) ?? []).flatMap(([error, value]) => {
      const stored = error ? undefined : parseStored(value as Record<string, string>);
      return stored ? [stored] : [];
    });
    return found.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  /** Forgets the schedule (its hash and its place in every set); false when it was gone already. */
  async remove(schedule: Schedule): Promise<boolean> {
    const k = this.keys;
    const [[, deleted]] = (await this.redis
      .multi()
      .del(k.schedule(schedule.id))
      .srem(k.threadSchedules(schedule.threadKey), schedule.id)
      .srem(k.ownerSchedules(ownerOf(schedule)), schedule.id)
      .zrem(k.allSchedules, schedule.id)
      .exec()) as [[Error | null, number], ...unknown[]];
    return deleted === 1;
  }

  async setPaused(id: string, paused: boolean): Promise<boolean> {
    return (await this.redis.eval(SET_PAUSED, 1, this.keys.schedule(id), paused ? "1" : "0")) === 1;
  }

  async recordOutcome(id: string, run: LastRun & { outcome: RunOutcome }, maxFailures: number): Promise<{ failures: number; pausedNow: boolean } | undefined> {
    const result = (await this.redis.eval(RECORD, 1, this.keys.schedule(id), run.outcome, JSON.stringify(run), maxFailures)) as [number, number] | null;
    return result ? { failures: Number(result[0]), pausedNow: Number(result[1]) === 1 } : undefined;
  }
}

/** A schedule's hash as read back: undefined when it is gone or doesn't parse (never trusted as written). */
function parseStored(hash: Record<string, string>): StoredSchedule | undefined {
  if (!hash.record) return undefined;
  let record: unknown;
  let last: unknown;
  try {
    record = JSON.parse(hash.record);
    last = hash.last ? JSON.parse(hash.last) : undefined;
  } catch {
    return undefined;
  }
  const parsed = scheduleSchema.safeParse(record);
  if (!parsed.success) return undefined;
  const lastRun = lastRunSchema.safeParse(last);
  return { ...parsed.data, paused: hash.paused === "1", failures: Number(hash.failures ?? "0") || 0, ...(lastRun.success ? { last: lastRun.data } : {}) };
}
