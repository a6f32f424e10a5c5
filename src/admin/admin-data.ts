import type { Redis } from "ioredis";
import { UsageLedger } from "../agent/usage-ledger.js";
import { budgetReport, type BudgetReport } from "../budget/budget-report.js";
import { BudgetPolicy } from "../budget/budget-policy.js";
import { usageHistory, type UsageHistory } from "../budget/usage-history.js";
import type { BudgetPolicyConfig } from "../budget/budget-policy.js";
import { FailureLog, type FailureEntry } from "../ops/failure-log.js";
import { readRedisMemory, type RedisMemory } from "../ops/redis-memory.js";
import { readSessionDirectory, type SessionDirectory } from "../ops/session-directory.js";
import type { Keys } from "../redis/redis-keys.js";
import { SourceCallLog, type SourceCounts, type SourceFailure } from "../datasources/call-log.js";
import type { ScheduleView } from "../schedules/schedule-record.js";
import type { Schedules } from "../schedules/schedules.js";

/** What one section of the page waits for Redis: past it, the section says it is unavailable and the rest still shows. */
const SECTION_TIMEOUT_MS = 3000;
/** Users listed with their all-time totals (most tokens first). */
export const TOTALS_SHOWN = 50;
/** Failed turns listed (newest first). */
export const FAILURES_SHOWN = 50;
/** Failed data-source calls listed (newest first). */
export const SOURCE_FAILURES_SHOWN = 20;

/** A section's data, or why it is missing (Redis slow or away). */
export type Section<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface UserTotal {
  id: string;
  prompt_tokens: number;
  completion_tokens: number;
  requests: number;
}

export interface Overview {
  now: number;
  sessions: Section<SessionDirectory>;
  /** Whether any BUDGET_* limit is set (without one, usage is still counted; nothing is refused). */
  budgetsOn: boolean;
  budgets: Section<BudgetReport>;
  /** The last days' usage, with the top users and channels. */
  history: Section<UsageHistory>;
  /** USAGE_HISTORY_DAYS: how long day counters are kept. */
  historyDays: number;
  totals: Section<UserTotal[]>;
  failures: Section<FailureEntry[]>;
  /** Redis' used memory against its maxmemory. */
  redisMemory: Section<RedisMemory>;
  /** Data-source calls per source (today, the last 7 days) and the newest failed ones. */
  sources: Section<{ counts: SourceCounts[]; failures: SourceFailure[] }>;
  /** Every schedule, with its next run and last outcome. */
  schedules: Section<ScheduleView[]>;
}

async function section<T>(work: () => Promise<T>): Promise<Section<T>> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Section<T>>((resolve) => (timer = setTimeout(() => resolve({ ok: false, reason: "Redis did not answer in time" }), SECTION_TIMEOUT_MS)));
  try {
    return await Promise.race([work().then((value): Section<T> => ({ ok: true, value }), (): Section<T> => ({ ok: false, reason: "Redis could not be read" })), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Everything the overview shows, read at once from Redis. */
export async function loadOverview(redis: Redis, keys: Keys, config: BudgetPolicyConfig, schedules?: Pick<Schedules, "list">): Promise<Overview> {
  const now = Date.now();
  const sourceCalls = new SourceCallLog(redis, keys);
  const [sessions, budgets, history, totals, failures, redisMemory, sources, scheduleList] = await Promise.all([
    section(() => readSessionDirectory(redis, keys, now)),
    section(() => budgetReport(redis, keys, config, now)),
    section(() => usageHistory(redis, keys, config, now)),
    section(async () => (await new UsageLedger(redis, keys).all("user")).slice(0, TOTALS_SHOWN)),
    section(() => new FailureLog(redis, keys).recent(FAILURES_SHOWN)),
    section(() => readRedisMemory(redis)),
    section(async () => ({ counts: await sourceCalls.counts(now), failures: await sourceCalls.failures(SOURCE_FAILURES_SHOWN) })),
    schedules ? section(() => schedules.list("all")) : Promise.resolve<Section<ScheduleView[]>>({ ok: false, reason: "schedules are not read by this process" }),
  ]);
  return { now, sessions, budgetsOn: new BudgetPolicy(config).enabled, budgets, history, historyDays: config.USAGE_HISTORY_DAYS, totals, failures, redisMemory, sources, schedules: scheduleList };
}
