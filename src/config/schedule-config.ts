import { z } from "zod";
import { isTimeZone } from "../core/calendar-periods.js";
import { integer } from "./config-fields.js";

/** Schedules (src/schedules/, #20): `schedule <when>: <request>` in a thread. `[schedules]` in .env.example. */
export const scheduleSchema = z.object({
  /** The zone whose wall clock `<when>` is read in (an IANA name); unset: BUDGET_TIMEZONE. */
  SCHEDULE_TIMEZONE: z.string().refine(isTimeZone, "a time zone name such as UTC or Europe/Paris").optional(),
  /**
   * The closest two runs of one schedule may come, in minutes: a schedule that runs more often is
   * refused. A fraction allows runs under a minute apart, with a 6-field cron (seconds first): 0.5 is
   * 30 seconds, 0.05 is 3. At 1 or more (the default 15) nothing runs more often than every minute.
   */
  SCHEDULE_MIN_INTERVAL_MINUTES: z.coerce.number().min(1 / 60).max(7 * 24 * 60).default(15),
  /** Schedules one person may have at once (all threads together). */
  SCHEDULE_MAX_PER_USER: integer(10, 1, 1000),
  /** Failed runs in a row after which a schedule pauses itself (`resume <id>` starts it again). */
  SCHEDULE_MAX_FAILURES: integer(3, 1, 100),
});

export type ScheduleConfig = Readonly<z.infer<typeof scheduleSchema>>;
