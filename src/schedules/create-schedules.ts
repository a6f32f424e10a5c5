import type { Redis } from "ioredis";
import type { BudgetConfig, ChatConfig, RedisConfig, ScheduleConfig } from "../config.js";
import type { ChatRequestInput } from "../core/chat-request.js";
import type { Logger } from "../log.js";
import { BullSchedules } from "./bullmq-schedules.js";
import type { RulesByPlatform } from "./schedule-access.js";
import { ScheduleCommands } from "./schedule-commands.js";
import { ScheduleRunner } from "./schedule-runner.js";
import { ScheduledTurns, type ScheduleMetrics } from "./scheduled-turns.js";

/** The schedules section, with what it borrows: the budgets' zone (its default), the queue prefix (where schedulers live), the admins (who may remove any). */
export type SchedulesConfig = ScheduleConfig & Pick<BudgetConfig, "BUDGET_TIMEZONE"> & Pick<RedisConfig, "QUEUE_PREFIX"> & Pick<ChatConfig, "ADMIN_USERS">;

/** The zone `<when>` is read in: SCHEDULE_TIMEZONE, else BUDGET_TIMEZONE. */
export function scheduleTimeZone(config: Pick<SchedulesConfig, "SCHEDULE_TIMEZONE" | "BUDGET_TIMEZONE">): string {
  return config.SCHEDULE_TIMEZONE ?? config.BUDGET_TIMEZONE;
}

/** The schedules store (SCHEDULE_MAX_PER_USER, SCHEDULE_MAX_FAILURES) on the deployment's Redis: what the bot, the CLI and the workers share. */
export function createScheduleStore(config: Pick<SchedulesConfig, "QUEUE_PREFIX" | "SCHEDULE_MAX_PER_USER" | "SCHEDULE_MAX_FAILURES">, redis: Redis): BullSchedules {
  return new BullSchedules({ redis, prefix: config.QUEUE_PREFIX, maxPerUser: config.SCHEDULE_MAX_PER_USER, maxFailures: config.SCHEDULE_MAX_FAILURES });
}

/** What a worker's schedules are made over: Redis, the access rules of the configured platforms, the metrics. */
export interface ScheduleParts {
  redis: Redis;
  log: Logger;
  /** Each platform's access rules (its adapter's), judged at a schedule's creation and before each run. */
  rules: RulesByPlatform;
  metrics?: ScheduleMetrics;
}

/** A worker's schedules: the store, the thread commands, the judge of scheduled turns, and the runner that fires them. */
export interface WorkerSchedules {
  schedules: BullSchedules;
  commands: ScheduleCommands;
  turns: ScheduledTurns;
  /** The runner feeding fired runs to `enqueue` (the turn queue's), not started yet. */
  runner(enqueue: (request: ChatRequestInput) => Promise<{ duplicate: boolean }>): ScheduleRunner;
}

/** Schedules as configured (SCHEDULE_*, ADMIN_USERS), for a worker. */
export function createWorkerSchedules(config: SchedulesConfig, { redis, log, rules, metrics }: ScheduleParts): WorkerSchedules {
  const schedules = createScheduleStore(config, redis);
  return {
    schedules,
    commands: new ScheduleCommands({ schedules, rules, timeZone: scheduleTimeZone(config), minIntervalMinutes: config.SCHEDULE_MIN_INTERVAL_MINUTES, admins: config.ADMIN_USERS }),
    turns: new ScheduledTurns({ schedules, rules, maxFailures: config.SCHEDULE_MAX_FAILURES, log, metrics }),
    runner: (enqueue) => new ScheduleRunner({ redis, prefix: config.QUEUE_PREFIX, schedules, enqueue, log }),
  };
}
