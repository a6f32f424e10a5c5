import { Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { ChatRequestInput } from "../core/chat-request.js";
import type { Logger } from "../log.js";
import { SCHEDULE_QUEUE } from "../redis/redis-keys.js";
import type { ScheduledRunJob } from "./bullmq-schedules.js";
import type { Schedule } from "./schedule-record.js";
import type { Schedules } from "./schedules.js";
import { scheduleRepeatStrategy } from "./schedule-times.js";

/** A run's event id: the schedule and the time it was due, so every delivery of one run is the same event. */
export function scheduledEventId(scheduleId: string, dueAt: number): string {
  return `schedule:${scheduleId}:${dueAt}`;
}

/**
 * One run of a schedule as a request of its creator in its thread, like a message they sent:
 * the same text, their name, the thread's reply routing; `schedule` marks it (heading, Stop this
 * schedule, audit line). No attachments: a run works on the session's files.
 */
export function scheduledRequest(schedule: Schedule, dueAt: number, now: number): ChatRequestInput {
  return {
    eventId: scheduledEventId(schedule.id, dueAt),
    kind: "message",
    user: { id: schedule.creator.id, name: schedule.creator.name },
    conversation: schedule.conversation,
    text: schedule.text,
    attachments: [],
    replyContext: schedule.replyContext,
    receivedAt: now,
    schedule: { id: schedule.id, words: schedule.words, dueAt },
  };
}

export interface ScheduleRunnerOptions {
  redis: Redis;
  prefix: string;
  schedules: Pick<Schedules, "get">;
  /**
   * Where a run goes: the turn queue's enqueue (TurnQueue.enqueue), the same claim and per-thread
   * order as a platform's events. duplicate: this run was enqueued before (a fired job taken
   * again after its worker died) and will not run again.
   */
  enqueue(request: ChatRequestInput): Promise<{ duplicate: boolean }>;
  log: Logger;
}

/**
 * Takes the runs BullMQ's job schedulers fire (the `schedules` queue) and turns each into one turn
 * of its thread. A run is fired once per due time (one delayed job per scheduler, one worker holds
 * it); if the worker holding it dies, BullMQ hands it to another, whose enqueue is then a
 * duplicate of the same event id (`schedule:<id>:<due time>`): each run is one turn, whatever the
 * number of workers. Whether the turn may run (its schedule still on, its creator still allowed)
 * is judged when it runs (ScheduledTurns), after the turns before it in its thread.
 */
export class ScheduleRunner {
  private readonly worker: Worker<ScheduledRunJob>;

  constructor(private readonly options: ScheduleRunnerOptions) {
    this.worker = new Worker<ScheduledRunJob>(SCHEDULE_QUEUE, (job) => this.fire(job), {
      connection: options.redis,
      prefix: options.prefix,
      concurrency: 4,
      autorun: false,
      // The next run after this one, computed as the confirmation said it (schedule-times.ts).
      settings: { repeatStrategy: scheduleRepeatStrategy },
    });
    let lastError = "";
    this.worker.on("error", (error) => {
      if (error.message !== lastError) options.log.warn({ err: error.message }, "schedule runner: queue problem; retrying");
      lastError = error.message;
    });
  }

  start(): void {
    void this.worker.run();
  }

  async close(): Promise<void> {
    await this.worker.close();
  }

  private async fire(job: Job<ScheduledRunJob>): Promise<void> {
    const id = job.data.scheduleId;
    // The run's due time: BullMQ's own (the delayed job's "prevMillis"), else when it was made to wait until.
    const dueAt = job.opts.prevMillis ?? job.timestamp + (job.opts.delay ?? 0);
    const log = this.options.log.child({ schedule: id, requestId: scheduledEventId(id, dueAt) });
    const schedule = await this.options.schedules.get(id);
    if (!schedule || schedule.paused) {
      log.info({ found: Boolean(schedule) }, "a run of a schedule that is removed or paused: not run");
      return;
    }
    const now = Date.now();
    const { duplicate } = await this.options.enqueue(scheduledRequest(schedule, dueAt, now));
    log.info({ thread: schedule.threadKey, lateSeconds: Math.max(0, Math.round((now - dueAt) / 1000)), duplicate }, duplicate ? "scheduled run enqueued before: not again" : "scheduled run enqueued");
  }
}
