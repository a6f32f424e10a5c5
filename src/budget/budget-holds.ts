import type { Redis } from "ioredis";
import { z } from "zod";
import type { Keys } from "../redis/redis-keys.js";
import type { BudgetPeriods } from "../core/calendar-periods.js";
import type { BudgetLimits } from "./budget-policy.js";
import type { BudgetUse, PeriodUse } from "./budget-use.js";

/**
 * Holds: what the running turns of a subject (a user, a channel) may still spend. A turn is admitted
 * only while the subject's use plus what its other running turns hold is under every limit, and the
 * admission holds one turn's worth in the same script, so concurrent turns can never all slip under
 * a limit together: at most the last one admitted goes over, by at most one turn's worth. Charges
 * (budget-store.ts) move the spend from the hold to the counters; the turn's end releases the rest.
 *
 * Each hold is an entry of one hash per subject (turn id → "tokens execMs expiresAt spentTokens"),
 * with its own expiry: a worker that dies never releases, and its hold lapses on its own. Admitting a
 * turn that already holds (another worker took it over) replaces its entry rather than adding one,
 * without checking the limits again (the turn was admitted; half-done, it finishes), and answers
 * what the turn spent before, so the rescuer continues within the same per-turn token budget.
 */

// KEYS: the subject's holds, its day counter, its month counter.
// ARGV: now (ms), turn id ('' in check mode), tokens and exec ms to hold, the hold's expiry (ms
// since the epoch), the hash's time to live (ms), the limits (day tokens, day exec ms, month tokens,
// month exec ms; 0: none), then 'hold' or 'check' (check only: nothing written but lapsed holds).
// Returns: admitted (1/0), taken over (1/0), what the turn spent before, the day's tokens and exec
// ms, the month's tokens and exec ms, then the tokens and exec ms other turns hold.
const ADMIT = `
local now = tonumber(ARGV[1])
local turn = ARGV[2]
local heldTokens, heldMs, own = 0, 0, nil
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local t, e, x, s = string.match(entries[i + 1], '^(%d+) (%d+) (%d+) (%d+)$')
  if not x or tonumber(x) <= now then
    redis.call('HDEL', KEYS[1], entries[i])
  elseif entries[i] == turn then
    own = tonumber(s)
  else
    heldTokens = heldTokens + tonumber(t)
    heldMs = heldMs + tonumber(e)
  end
end
local day = redis.call('HMGET', KEYS[2], 'tokens', 'exec_ms')
local month = redis.call('HMGET', KEYS[3], 'tokens', 'exec_ms')
local used = { tonumber(day[1]) or 0, tonumber(day[2]) or 0, tonumber(month[1]) or 0, tonumber(month[2]) or 0 }
local held = { heldTokens, heldMs, heldTokens, heldMs }
local admitted = 1
if own == nil then
  for i = 1, 4 do
    local limit = tonumber(ARGV[6 + i])
    if limit > 0 and used[i] + held[i] >= limit then admitted = 0 end
  end
end
if admitted == 1 and ARGV[11] == 'hold' then
  -- A turn taken over may spend what is left of its worth: the tokens its earlier attempts spent count.
  local tokens = math.max(0, tonumber(ARGV[3]) - (own or 0))
  redis.call('HSET', KEYS[1], turn, string.format('%d %d %d %d', tokens, tonumber(ARGV[4]), tonumber(ARGV[5]), own or 0))
  if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[6]) then redis.call('PEXPIRE', KEYS[1], ARGV[6]) end
end
return { admitted, own and 1 or 0, own or 0, used[1], used[2], used[3], used[4], heldTokens, heldMs }
`;

const answerSchema = z.tuple([z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number()]);

/** One subject's side of an admission: whether it let the turn in, its use, and what others hold. */
export interface SubjectAdmission {
  admitted: boolean;
  /** The turn already held (another worker ran it before): not checked again. */
  takenOver: boolean;
  /** Tokens the turn spent before this admission (its earlier attempts), 0 for a new turn. */
  spentTokens: number;
  use: PeriodUse;
  /** What the subject's other running turns hold (it counts against each period's limit). */
  held: BudgetUse;
}

export interface HoldRequest {
  subject: string;
  limits: BudgetLimits;
}

const ms = (seconds: number) => String(Math.round(seconds * 1000));

export class BudgetHolds {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /**
   * Admits a turn against each subject's limits and holds `worth` for it until `expiresAt` (mode
   * `hold`), or only tells whether a turn would be admitted (mode `check`: turn is ignored). Each
   * subject in one script, all in one round trip; when one refuses, the holds the others took are
   * released before this returns.
   */
  async admit(
    subjects: HoldRequest[],
    periods: BudgetPeriods,
    turn: { id: string; worth: BudgetUse; expiresAt: number } | undefined,
    now: number,
  ): Promise<SubjectAdmission[]> {
    if (!subjects.length) return [];
    const pipeline = this.redis.pipeline();
    const keepMs = String(Math.max(1, (turn?.expiresAt ?? now) - now));
    for (const { subject, limits } of subjects) {
      const keys = [this.keys.budgetHolds(subject), this.keys.budget(subject, periods.day.key), this.keys.budget(subject, periods.month.key)];
      const limitArgs = [String(limits.day.tokens), ms(limits.day.execSeconds), String(limits.month.tokens), ms(limits.month.execSeconds)];
      const holdArgs = turn ? [turn.id, String(Math.round(turn.worth.tokens)), ms(turn.worth.execSeconds), String(turn.expiresAt)] : ["", "0", "0", "0"];
      pipeline.eval(ADMIT, keys.length, ...keys, String(now), ...holdArgs, keepMs, ...limitArgs, turn ? "hold" : "check");
    }
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
    const admissions = results.map(([, value]) => {
      const [admitted, takenOver, spentTokens, dayTokens, dayMs, monthTokens, monthMs, heldTokens, heldMs] = answerSchema.parse(value);
      return {
        admitted: admitted === 1,
        takenOver: takenOver === 1,
        spentTokens,
        use: { day: { tokens: dayTokens, execSeconds: dayMs / 1000 }, month: { tokens: monthTokens, execSeconds: monthMs / 1000 } },
        held: { tokens: heldTokens, execSeconds: heldMs / 1000 },
      };
    });
    if (turn && admissions.some((admission) => !admission.admitted)) {
      await this.release(subjects.filter((_, i) => admissions[i]!.admitted).map(({ subject }) => subject), turn.id);
    }
    return admissions;
  }

  /** Releases the turn's holds: what it didn't spend is free again for the subjects' other turns. */
  async release(subjects: string[], turn: string): Promise<void> {
    if (!subjects.length) return;
    const pipeline = this.redis.pipeline();
    for (const subject of subjects) pipeline.hdel(this.keys.budgetHolds(subject), turn);
    await pipeline.exec();
  }
}
