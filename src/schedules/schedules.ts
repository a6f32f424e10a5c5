import type { RunOutcome, Schedule, ScheduleView } from "./schedule-record.js";

/**
 * The schedules port (issue #20): recurring requests of a thread. A schedule is a request (a
 * question, or a fenced python block) and a `<when>` (cron + words + time zone), made by one
 * person in one thread; each of its runs is a turn of that thread, as that person. The port keeps
 * schedules and their standing (paused, failures in a row, last run) and has their runs fired;
 * turning a fired run into a turn is ScheduleRunner's, judging a turn ScheduledTurns'.
 *
 * Implementation: BullSchedules (bullmq-schedules.ts), on BullMQ's job schedulers in Redis.
 */
export interface Schedules {
  /** Keeps a new schedule and starts its runs; "limit": its creator has SCHEDULE_MAX_PER_USER already. */
  create(schedule: Omit<Schedule, "id" | "createdAt">): Promise<{ ok: true; schedule: ScheduleView } | { ok: false; reason: "limit"; count: number }>;
  get(id: string): Promise<ScheduleView | undefined>;
  /** A thread's (by thread key), a person's (`slack:U123`), or every schedule; oldest first. */
  list(scope: ScheduleScope): Promise<ScheduleView[]>;
  /** Stops its runs and forgets it; a run under way finishes. The thread's session and files are never touched. False: no such schedule. */
  remove(id: string): Promise<boolean>;
  /** Stops its runs, keeping it (`resume` starts them again). False: no such schedule. */
  pause(id: string): Promise<boolean>;
  /** Starts a paused schedule's runs again, its failures forgotten; undefined: no such schedule. */
  resume(id: string): Promise<ScheduleView | undefined>;
  /**
   * How a run ended: answered clears the failures in a row, failed and refused add one, and the
   * SCHEDULE_MAX_FAILURES-th pauses the schedule (pausedNow); cancelled (someone pressed Stop)
   * counts neither way. Undefined: the schedule is gone.
   */
  recordOutcome(id: string, run: { outcome: RunOutcome; at: number; requestId: string }): Promise<{ failures: number; pausedNow: boolean } | undefined>;
  close(): Promise<void>;
}

export type ScheduleScope = { thread: string } | { owner: string } | "all";
