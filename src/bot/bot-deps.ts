import type { Redis } from "ioredis";
import type { FeedbackStore } from "../feedback/feedback-store.js";
import type { Keys } from "../redis/redis-keys.js";
import type { Intake } from "./intake.js";
import type { ScheduleControl } from "./schedule-control.js";

/**
 * What the bot process hands each platform adapter: the intake (every request goes through it),
 * the feedback store (rating clicks), and Redis for the adapter's own small state (Slack's
 * assistant threads and latest DM threads), so that several bot processes share it; and the
 * schedules' buttons ("Stop this schedule").
 */
export interface BotDeps {
  intake: Intake;
  feedback: FeedbackStore;
  redis: Redis;
  keys: Keys;
  schedules?: ScheduleControl;
}
