import type { ChatRequest } from "../core/chat-request.js";
import { displayName } from "../core/display-text.js";
import type { Delivery, Failure } from "../core/reply.js";
import type { Logger } from "../log.js";
import { scheduleAccess, type RulesByPlatform } from "./schedule-access.js";
import type { RunOutcome } from "./schedule-record.js";
import type { Schedules } from "./schedules.js";

/** Counts scheduled runs by how they ended (the worker's /metrics): answered, failed, refused, cancelled, skipped. */
export interface ScheduleMetrics {
  scheduledRun(outcome: RunOutcome | "skipped"): void;
}

/** Whether a scheduled run goes ahead: yes; no, quietly (its schedule is gone or paused); no, refused (said in the thread). */
export type Admission = { run: true } | { run: false; refusal?: Failure };

/** How a scheduled run is headed in its thread: "Scheduled run of `k7m2qz` (every Monday at 09:00)". */
export function runHeading(schedule: NonNullable<ChatRequest["schedule"]>): { markdown: string; plain: string } {
  const words = displayName(schedule.words, 120);
  return { markdown: `**Scheduled run of \`${schedule.id}\`** (${words})`, plain: `Scheduled run of ${schedule.id} (${words})` };
}

/**
 * A delivery whose answer opens with the run's heading: as the first words of a streamed answer,
 * at the top of the final one, and before a failure's sentence.
 */
export function headedDelivery(delivery: Delivery, schedule: NonNullable<ChatRequest["schedule"]>): Delivery {
  const heading = runHeading(schedule);
  let opened = false;
  return {
    status: (request, update) => delivery.status(request, update),
    async event(request, event) {
      if (!opened) {
        opened = true;
        await delivery.event(request, { type: "text", delta: `${heading.markdown}\n\n` });
      }
      await delivery.event(request, event);
    },
    answer: (request, answer) => delivery.answer(request, { ...answer, markdown: `${heading.markdown}\n\n${answer.markdown}` }),
    fail: (request, failure) => delivery.fail(request, { ...failure, message: `${heading.plain}: ${failure.message}` }),
  };
}

export interface ScheduledTurnsOptions {
  schedules: Pick<Schedules, "get" | "recordOutcome">;
  /** The access rules in force (the worker's config): judged again before each run. */
  rules: RulesByPlatform;
  /** SCHEDULE_MAX_FAILURES, for the sentence a pause adds. */
  maxFailures: number;
  log: Logger;
  metrics?: ScheduleMetrics;
}

/**
 * The turn worker's side of a scheduled run (a request with `schedule` set): judged when its turn
 * comes (in thread order, after whatever ran before it), headed in the thread, and its outcome
 * recorded on the schedule, which pauses itself after SCHEDULE_MAX_FAILURES failed runs in a row
 * and says so with the failure.
 */
export class ScheduledTurns {
  constructor(private readonly options: ScheduledTurnsOptions) {}

  /**
   * Judges the run when its turn comes: a schedule removed or paused since it was fired is skipped
   * quietly; a creator the access rules no longer allow has the run refused, said in the thread
   * (through `delivery`) and counted as a failed run.
   */
  async admit(request: ChatRequest, delivery: Delivery): Promise<Admission> {
    const run = request.schedule!;
    const schedule = await this.options.schedules.get(run.id);
    if (!schedule || schedule.paused) {
      this.options.metrics?.scheduledRun("skipped");
      this.options.log.info({ schedule: run.id, requestId: request.eventId, found: Boolean(schedule) }, "scheduled run skipped: its schedule is removed or paused");
      return { run: false };
    }
    const access = scheduleAccess(this.options.rules, schedule);
    if (access.allowed) return { run: true };
    const who = displayName(schedule.creator.name, 80);
    const refusal: Failure = { code: "NOT_ALLOWED", message: `Not run: ${who}, whose schedule this is, may not use me here any more ("${access.reason}"). \`unschedule ${run.id}\` removes it.` };
    this.options.log.info({ schedule: run.id, requestId: request.eventId, user: schedule.creator.id }, "scheduled run refused by the access rules");
    const shown = (await this.ended(request, "refused", refusal)) ?? refusal;
    await this.delivery(request, delivery)
      .fail(request, shown)
      .catch((error: unknown) => this.options.log.error({ err: error, requestId: request.eventId }, "could not say that a scheduled run was refused"));
    return { run: false, refusal };
  }

  delivery(request: ChatRequest, delivery: Delivery): Delivery {
    return headedDelivery(delivery, request.schedule!);
  }

  /**
   * Records how the run ended (answered, failed, refused, cancelled) and returns the failure to post,
   * with what a pause adds. A record that can't be written is logged: the run's own outcome is what
   * the thread reads.
   */
  async ended(request: ChatRequest, outcome: RunOutcome, failure?: Failure): Promise<Failure | undefined> {
    const run = request.schedule!;
    this.options.metrics?.scheduledRun(outcome);
    const recorded = await this.options.schedules.recordOutcome(run.id, { outcome, at: Date.now(), requestId: request.eventId }).catch((error: unknown) => {
      this.options.log.warn({ err: error, schedule: run.id, requestId: request.eventId }, "could not record a scheduled run's outcome");
      return undefined;
    });
    if (!failure) return undefined;
    if (!recorded?.pausedNow) return failure;
    this.options.log.warn({ schedule: run.id, failures: recorded.failures }, "schedule paused after failed runs in a row");
    const paused = `This schedule has now failed ${recorded.failures} times in a row, so it is paused: \`resume ${run.id}\` starts it again, \`unschedule ${run.id}\` removes it.`;
    return { ...failure, message: `${failure.message}\n\n${paused}` };
  }
}
