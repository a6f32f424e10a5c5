import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { keys, SCHEDULE_QUEUE } from "../redis/redis-keys.js";
import { newScheduleId, type RunOutcome, type Schedule, type ScheduleView } from "./schedule-record.js";
import { ScheduleStore, type StoredSchedule } from "./schedule-store.js";
import { scheduleRepeatStrategy } from "./schedule-times.js";
import type { Schedules, ScheduleScope } from "./schedules.js";

/** What a fired run's job carries: the schedule's id only (the runner reads the schedule as it stands then). */
export interface ScheduledRunJob {
  scheduleId: string;
}

const DAY_SECONDS = 24 * 3600;
/** Ids tried before giving up (a clash among a billion ids is already rare). */
const ID_TRIES = 5;

export interface BullSchedulesOptions {
  redis: Redis;
  prefix: string;
  /** SCHEDULE_MAX_PER_USER. */
  maxPerUser: number;
  /** SCHEDULE_MAX_FAILURES. */
  maxFailures: number;
}

/**
 * The Schedules port on BullMQ's job schedulers (BullMQ ≥ 5.16): each active schedule is one job
 * scheduler on the `schedules` queue, named by the schedule's id, with its cron pattern and time
 * zone. BullMQ keeps exactly one delayed job per scheduler, its next run; when a worker takes that
 * job, BullMQ adds the following one, computed from the later of the run's time and now. So a
 * run missed while no worker was up is taken late, once, when one comes back, and the next is
 * the first due after that: never a burst. The schedules themselves (who, where, what) are kept
 * beside it in Redis (ScheduleStore); a paused schedule has no job scheduler.
 */
export class BullSchedules implements Schedules {
  readonly queue: Queue<ScheduledRunJob>;
  private readonly store: ScheduleStore;

  constructor(private readonly options: BullSchedulesOptions) {
    this.queue = new Queue<ScheduledRunJob>(SCHEDULE_QUEUE, { connection: options.redis, prefix: options.prefix, settings: { repeatStrategy: scheduleRepeatStrategy } });
    this.store = new ScheduleStore(options.redis, keys(options.prefix));
  }

  async create(input: Omit<Schedule, "id" | "createdAt">): Promise<{ ok: true; schedule: ScheduleView } | { ok: false; reason: "limit"; count: number }> {
    for (let attempt = 0; attempt < ID_TRIES; attempt++) {
      const schedule: Schedule = { ...input, id: newScheduleId(), createdAt: Date.now() };
      const kept = await this.store.create(schedule, this.options.maxPerUser);
      if (kept.status === "taken") continue;
      if (kept.status === "limit") return { ok: false, reason: "limit", count: kept.count };
      try {
        await this.start(schedule);
      } catch (error) {
        // Not started: not kept either, so the creator can simply try again.
        await this.store.remove(schedule).catch(() => undefined);
        throw error;
      }
      return { ok: true, schedule: { ...schedule, paused: false, failures: 0, next: await this.nextRun(schedule.id) } };
    }
    throw new Error("could not find a free schedule id");
  }

  async get(id: string): Promise<ScheduleView | undefined> {
    const stored = await this.store.get(id);
    return stored && this.withNext(stored, stored.paused ? undefined : await this.nextRun(id));
  }

  async list(scope: ScheduleScope): Promise<ScheduleView[]> {
    const stored = await this.store.list(scope);
    if (!stored.length) return [];
    const next = new Map((await this.queue.getJobSchedulers()).map((scheduler) => [scheduler.key, scheduler.next]));
    return stored.map((schedule) => this.withNext(schedule, schedule.paused ? undefined : next.get(schedule.id)));
  }

  async remove(id: string): Promise<boolean> {
    const stored = await this.store.get(id);
    // The job scheduler first: from here on no run is fired; one fired already is refused by its turn (ScheduledTurns).
    await this.queue.removeJobScheduler(id);
    return stored ? this.store.remove(stored) : false;
  }

  async pause(id: string): Promise<boolean> {
    await this.queue.removeJobScheduler(id);
    return this.store.setPaused(id, true);
  }

  async resume(id: string): Promise<ScheduleView | undefined> {
    const stored = await this.store.get(id);
    if (!stored || !(await this.store.setPaused(id, false))) return undefined;
    await this.start(stored);
    return this.withNext({ ...stored, paused: false, failures: 0 }, await this.nextRun(id));
  }

  async recordOutcome(id: string, run: { outcome: RunOutcome; at: number; requestId: string }) {
    const recorded = await this.store.recordOutcome(id, run, this.options.maxFailures);
    if (recorded?.pausedNow) await this.queue.removeJobScheduler(id);
    return recorded;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }

  /** Upserts the schedule's job scheduler: its next run is the first after now. */
  private async start(schedule: Schedule): Promise<void> {
    await this.queue.upsertJobScheduler(
      schedule.id,
      { pattern: schedule.cron, tz: schedule.timeZone },
      {
        name: "scheduled-run",
        data: { scheduleId: schedule.id },
        opts: {
          // Turning a run into a turn may meet Redis away: tried again (the turn's claim makes it once).
          attempts: 10,
          backoff: { type: "exponential", delay: 1000 },
          removeOnComplete: { age: DAY_SECONDS, count: 1000 },
          removeOnFail: { age: 7 * DAY_SECONDS },
        },
      },
    );
  }

  private async nextRun(id: string): Promise<number | undefined> {
    return (await this.queue.getJobScheduler(id))?.next ?? undefined;
  }

  private withNext(schedule: StoredSchedule, next: number | undefined): ScheduleView {
    return next === undefined ? schedule : { ...schedule, next };
  }
}
