import type { Redis } from "ioredis";
import { periodsAt, resetTimeText, type Clock } from "../core/calendar-periods.js";
import type { Keys } from "../redis/redis-keys.js";

/** EXPORT_LOG_MAX_MB_PER_USER_DAY, as bytes, and the zone whose days it counts in (BUDGET_TIMEZONE). */
export interface ExportQuotaOptions {
  bytesPerUserDay: number;
  timeZone: string;
  clock?: Clock;
}

// Adds ARGV[1] bytes to the day's count unless that would pass ARGV[2]: then -1, nothing added.
const RESERVE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return -1 end
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return total
`;

/** A day after the day ends: the counter outlives it a little, then goes. */
const KEEP_MS = 24 * 3600 * 1000;

const megabytes = (bytes: number) => `${Math.round(bytes / 1048576)} MB`;

/**
 * What one person may add to the export log in a calendar day, all threads together (records and
 * their images), so no one fills Redis or the store by talking: past it, turns are answered as
 * usual but not recorded, and the answer says so. Reserved atomically in Redis before anything is kept.
 */
export class ExportQuota {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly options: ExportQuotaOptions,
  ) {}

  /** undefined when the bytes fit (and are now counted); else the sentence that says why the turn isn't kept. */
  async reserve(owner: string, bytes: number): Promise<string | undefined> {
    const now = (this.options.clock ?? Date.now)();
    const day = periodsAt(now, this.options.timeZone).day;
    const key = this.keys.exportQuota(owner, day.key);
    const total = Number(await this.redis.eval(RESERVE, 1, key, String(bytes), String(this.options.bytesPerUserDay), String(day.endsAt + KEEP_MS - now)));
    if (total >= 0) return undefined;
    return (
      `This turn was not kept for /export: it would pass the ${megabytes(this.options.bytesPerUserDay)} one person may record for export in a day ` +
      `(EXPORT_LOG_MAX_MB_PER_USER_DAY). Turns are kept again after ${resetTimeText(day, this.options.timeZone)}.`
    );
  }
}
