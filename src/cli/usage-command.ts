import type { Redis } from "ioredis";
import type { BudgetPolicyConfig } from "../budget/budget-policy.js";
import type { RedisConfig } from "../config.js";
import type { Logger } from "../log.js";
import { UsageLedger } from "../agent/usage-ledger.js";
import { budgetReport, type BudgetReportRow } from "../budget/budget-report.js";
import type { BudgetLimits } from "../budget/budget-policy.js";
import { displayName } from "../core/display-text.js";
import { FeedbackStore } from "../feedback/feedback-store.js";
import { keys, type Keys } from "../redis/redis-keys.js";
import { CliError } from "./cli-error.js";
import { connectRedis } from "./cli-redis.js";
import { USAGE_USAGE } from "./usages.js";

export { USAGE_USAGE };

/** Recent ratings listed by `codebot usage feedback`. */
const RECENT_SHOWN = 20;

const percent = (ratio: number) => `${Math.round(ratio * 100)}%`;
const steps = (value: number | undefined) => (value === undefined ? "-" : value.toFixed(1));

/** `codebot usage feedback`: 👍/👎 per model (counts, ratio, mean code steps), then the newest ratings. */
async function feedbackReport(redis: Redis, k: Keys, json: boolean): Promise<void> {
  const store = new FeedbackStore(redis, k);
  const [models, recent, names] = await Promise.all([store.summary(), store.recent(RECENT_SHOWN), store.modelNames()]);
  const rows = recent.map((record) => ({ ...record, model: store.modelOf(record, names) }));
  if (json) return void process.stdout.write(`${JSON.stringify({ models, recent: rows })}\n`);
  if (!models.length) return void process.stdout.write("No feedback recorded yet.\n");
  process.stdout.write("Feedback per model:\n");
  for (const row of models) {
    process.stdout.write(
      `${displayName(row.model)}\tup ${row.up}\tdown ${row.down}\tratio ${percent(row.ratio)}\tsteps ${steps(row.meanSteps)} (up ${steps(row.meanStepsUp)}, down ${steps(row.meanStepsDown)})\n`,
    );
  }
  process.stdout.write(`\nRecent feedback (newest first):\n`);
  for (const row of rows) {
    process.stdout.write(`${new Date(row.at).toISOString()}\t${row.rating}\t${displayName(row.model)}\tsteps ${row.steps}\tuser ${displayName(row.userId)}\tthread ${displayName(row.threadKey, 200)}\tevent ${displayName(row.eventId, 200)}\n`);
  }
}

const used = (value: number, limit: number, unit = "") => `${Math.round(value * 10) / 10}${unit}${limit > 0 ? ` of ${limit}${unit}` : ""}`;
const budgetCells = (row: BudgetReportRow, limits: BudgetLimits) =>
  `today: tokens ${used(row.day.tokens, limits.day.tokens)}, exec ${used(row.day.execSeconds, limits.day.execSeconds, " s")}\t` +
  `month: tokens ${used(row.month.tokens, limits.month.tokens)}, exec ${used(row.month.execSeconds, limits.month.execSeconds, " s")}\t${percent(row.share)} of the nearest limit`;
const limitCells = (limits: BudgetLimits) =>
  [`tokens ${limits.day.tokens || "-"}/day ${limits.month.tokens || "-"}/month`, `exec ${limits.day.execSeconds || "-"} s/day ${limits.month.execSeconds || "-"} s/month`].join(", ");

/** `codebot usage budgets`: today's and this month's use of the users and channels nearest their limits. */
async function budgetsReport(redis: Redis, k: Keys, config: RedisConfig & BudgetPolicyConfig, json: boolean): Promise<void> {
  const report = await budgetReport(redis, k, config);
  if (json) return void process.stdout.write(`${JSON.stringify(report)}\n`);
  process.stdout.write(`Budgets (${report.timeZone}): today resets ${report.periods.day.resetsAt}, this month ${report.periods.month.resetsAt}; - is no limit.\n`);
  process.stdout.write(`Per user: ${limitCells(report.limits.user)}\nPer channel: ${limitCells(report.limits.channel)}\n`);
  if (report.exempt.length) process.stdout.write(`Exempt (counted, never refused): ${report.exempt.map((user) => displayName(user)).join(", ")}\n`);
  for (const [title, rows, limits] of [["Users", report.users, report.limits.user], ["Channels", report.channels, report.limits.channel]] as const) {
    process.stdout.write(`\n${title} (nearest their limits first):\n`);
    if (!rows.length) process.stdout.write("none this month\n");
    for (const row of rows) process.stdout.write(`${displayName(row.id, 200)}\t${budgetCells(row, limits)}\n`);
  }
}

/** `codebot usage`: model tokens used, per user (default) or per thread, most first; or the answers' feedback; or budgets. */
export async function usageCommand(args: string[], config: RedisConfig & BudgetPolicyConfig, _log: Logger): Promise<number> {
  const json = args.includes("--json");
  const rest = args.filter((arg) => arg !== "--json");
  if (rest.length > 1 || (rest[0] && !["users", "threads", "feedback", "budgets"].includes(rest[0]))) throw new CliError(`Usage: ${USAGE_USAGE}`);
  const redis = await connectRedis(config.REDIS_URL);
  const k = keys(config.QUEUE_PREFIX);
  try {
    if (rest[0] === "feedback") {
      await feedbackReport(redis, k, json);
      return 0;
    }
    if (rest[0] === "budgets") {
      await budgetsReport(redis, k, config, json);
      return 0;
    }
    const rows = await new UsageLedger(redis, k).all(rest[0] === "threads" ? "thread" : "user");
    if (json) process.stdout.write(`${JSON.stringify(rows)}\n`);
    else if (!rows.length) process.stdout.write("No usage recorded yet.\n");
    else for (const row of rows) process.stdout.write(`${row.id}\tprompt ${row.prompt_tokens}\tcompletion ${row.completion_tokens}\trequests ${row.requests}\n`);
    return 0;
  } finally {
    redis.disconnect();
  }
}
