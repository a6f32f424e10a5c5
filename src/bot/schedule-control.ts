import type { Platform } from "../core/chat-request.js";
import type { Logger } from "../log.js";
import { mayManage, SCHEDULE_ID } from "../schedules/schedule-record.js";
import type { Schedules } from "../schedules/schedules.js";

/** What a press of "Stop this schedule" did: stopped it, refused (not theirs: the creator's name), or nothing (it is gone). */
export type ScheduleStopOutcome = { status: "stopped"; id: string; words: string } | { status: "refused"; id: string; creator: string } | { status: "gone"; id: string };

/** What the person who pressed it is told (names as the platform shows text: escaped by the caller's `escape`). */
export function scheduleStopText(outcome: ScheduleStopOutcome, escape: (text: string) => string): string {
  if (outcome.status === "stopped") return `Schedule ${outcome.id} (${escape(outcome.words)}) is removed: it runs no more. This thread's session and files are untouched.`;
  if (outcome.status === "refused") return `Only ${escape(outcome.creator)} (who made schedule ${outcome.id}) or an admin can stop it.`;
  return `Schedule ${outcome.id} was removed already.`;
}

/**
 * The bot's side of schedules: the "Stop this schedule" button under a scheduled run's answer.
 * It removes the schedule only for the person who made it (or one of ADMIN_USERS); the creator
 * comes from the stored schedule, never from the button, so no client can claim someone else's.
 */
export class ScheduleControl {
  constructor(
    private readonly schedules: Pick<Schedules, "get" | "remove">,
    private readonly admins: readonly string[],
    private readonly log: Logger,
  ) {}

  async stop(id: string, who: { platform: Platform; userId: string }): Promise<ScheduleStopOutcome> {
    const schedule = SCHEDULE_ID.test(id) ? await this.schedules.get(id) : undefined;
    if (!schedule) return { status: "gone", id: id.slice(0, 20) };
    if (!mayManage(schedule, who, this.admins)) {
      this.log.info({ schedule: id, user: who.userId }, "stop of a schedule refused: not the creator's");
      return { status: "refused", id, creator: schedule.creator.name };
    }
    await this.schedules.remove(id);
    this.log.info({ schedule: id, user: who.userId }, "schedule stopped from its button");
    return { status: "stopped", id, words: schedule.words };
  }
}
