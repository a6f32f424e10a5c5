import { threadKey, type ChatRequest } from "../core/chat-request.js";
import { displayName, inlineCode } from "../core/display-text.js";
import { commandReply, type Delivery } from "../core/reply.js";
import { scheduleAccess, type RulesByPlatform } from "./schedule-access.js";
import { mayManage, MAX_REQUEST_CHARS, SCHEDULE_ID, type Schedule, type ScheduleView } from "./schedule-record.js";
import { confirmation, SCHEDULE_USAGE, scheduleLine, span, splitScheduleText, standing } from "./schedule-text.js";
import { checkInterval, isValidCron, nextRuns } from "./schedule-times.js";
import { parseWhen } from "./schedule-when.js";
import type { Schedules } from "./schedules.js";

export interface ScheduleCommandsOptions {
  schedules: Schedules;
  /** The access rules in force: a schedule its creator may not make is refused. */
  rules: RulesByPlatform;
  /** SCHEDULE_TIMEZONE (or BUDGET_TIMEZONE). */
  timeZone: string;
  /** SCHEDULE_MIN_INTERVAL_MINUTES (a fraction allows runs seconds apart, with a 6-field cron). */
  minIntervalMinutes: number;
  /** ADMIN_USERS: who may remove or resume anyone's schedule. */
  admins: readonly string[];
  now?: () => number;
}

/** Reply routing that belongs to one request, not to the thread: a Discord command's deferred reply. */
const ONE_REQUEST_ONLY = ["statusMessageId"];

/**
 * The thread's schedule commands, answered without the model: `schedule <when>: <request>`,
 * `schedules`, `unschedule <id>|all`, `resume <id>`. Refusals say why, and nothing is kept.
 */
export class ScheduleCommands {
  private readonly now: () => number;

  constructor(private readonly options: ScheduleCommandsOptions) {
    this.now = options.now ?? Date.now;
  }

  async run(request: ChatRequest, delivery: Delivery): Promise<void> {
    const markdown =
      request.kind === "schedule" ? await this.create(request) : request.kind === "schedules" ? await this.list(request) : request.kind === "unschedule" ? await this.unschedule(request) : await this.resume(request);
    await delivery.answer(request, commandReply(markdown));
  }

  private async create(request: ChatRequest): Promise<string> {
    const { schedules, timeZone, minIntervalMinutes } = this.options;
    const parts = splitScheduleText(request.text);
    if (!parts) return `Not scheduled: ${SCHEDULE_USAGE}`;
    if (parts.request.length > MAX_REQUEST_CHARS) return `Not scheduled: the request is longer than ${MAX_REQUEST_CHARS.toLocaleString("en-US")} characters.`;
    const parsed = parseWhen(parts.when, isValidCron);
    if (!parsed.ok) return `Not scheduled: ${parsed.reason}.`;
    const { cron, words } = parsed.when;
    const now = this.now();
    const interval = checkInterval(cron, timeZone, minIntervalMinutes, now);
    if (!interval.ok && interval.never) return `Not scheduled: ${inlineCode(cron)} never comes round (no run in the next year).`;
    if (!interval.ok) {
      return `Not scheduled: ${words} runs ${span(interval.gapSeconds)} apart at its closest, and schedules here run at most every ${span(minIntervalMinutes * 60)}.`;
    }
    const replyContext = Object.fromEntries(Object.entries(request.replyContext).filter(([name]) => !ONE_REQUEST_ONLY.includes(name)));
    const schedule: Omit<Schedule, "id" | "createdAt"> = {
      threadKey: threadKey(request.conversation),
      conversation: request.conversation,
      replyContext,
      creator: { platform: request.conversation.platform, id: request.user.id, name: request.user.name },
      ...(request.access ? { access: request.access } : {}),
      text: parts.request,
      cron,
      words,
      timeZone,
    };
    const access = scheduleAccess(this.options.rules, schedule);
    if (!access.allowed) return `Not scheduled: ${access.reason}`;
    const made = await schedules.create(schedule);
    if (!made.ok) return `Not scheduled: you have ${made.count} schedules, the most one person may have. \`schedules\` in a DM with me lists them; \`unschedule <id>\` removes one.`;
    const local = request.conversation.platform === "local" ? `In the terminal its runs are not shown as they happen: \`codebot export --thread ${request.conversation.threadId}\` has them. ` : "";
    return confirmation(made.schedule, nextRuns(cron, timeZone, now, 3), local);
  }

  private async list(request: ChatRequest): Promise<string> {
    const mine = request.access?.isDm === true;
    const owner = `${request.conversation.platform}:${request.user.id}`;
    const found = await this.options.schedules.list(mine ? { owner } : { thread: threadKey(request.conversation) });
    if (!found.length) return mine ? "You have no schedules. `schedule <when>: <request>` in a thread makes one." : "This thread has no schedules. `schedule <when>: <request>` makes one.";
    const now = this.now();
    const title = mine ? `Your schedules (${found.length}), in all threads:` : `This thread's schedules (${found.length}):`;
    return [title, ...found.map((schedule) => scheduleLine(schedule, now))].join("\n");
  }

  private async unschedule(request: ChatRequest): Promise<string> {
    const argument = request.text.trim();
    if (!argument) return "Say which: `unschedule <id>` (`schedules` lists them), or `unschedule all` for this thread's.";
    if (argument.toLowerCase() === "all") return this.unscheduleThread(request);
    const found = await this.findManaged(request, argument);
    if (typeof found === "string") return found;
    await this.options.schedules.remove(found.id);
    return `Removed schedule ${inlineCode(found.id)} (${displayName(found.words, 120)}): it runs no more. Its thread's session and files are untouched.`;
  }

  /** `unschedule all`: the thread's schedules the person made (an admin: all of them). */
  private async unscheduleThread(request: ChatRequest): Promise<string> {
    const all = await this.options.schedules.list({ thread: threadKey(request.conversation) });
    const theirs = all.filter((schedule) => mayManage(schedule, this.who(request), this.options.admins));
    if (!all.length) return "This thread has no schedules.";
    if (!theirs.length) return `None of this thread's ${all.length} schedules are yours: only the person who made one (or an admin) can remove it.`;
    for (const schedule of theirs) await this.options.schedules.remove(schedule.id);
    const others = all.length - theirs.length;
    return `Removed ${theirs.length} schedule${theirs.length === 1 ? "" : "s"} of this thread (${theirs.map((schedule) => inlineCode(schedule.id)).join(", ")})${others ? `; ${others} made by others stay` : ""}. The thread's session and files are untouched.`;
  }

  private async resume(request: ChatRequest): Promise<string> {
    const argument = request.text.trim();
    if (!argument) return "Say which: `resume <id>` (`schedules` lists them).";
    const found = await this.findManaged(request, argument);
    if (typeof found === "string") return found;
    if (!found.paused) return `Schedule ${inlineCode(found.id)} isn't paused: ${standing(found, this.now())}.`;
    const resumed = await this.options.schedules.resume(found.id);
    if (!resumed) return `No schedule ${inlineCode(found.id)} any more.`;
    const runs = nextRuns(resumed.cron, resumed.timeZone, this.now(), 3);
    return `Resumed ${inlineCode(resumed.id)} (${displayName(resumed.words, 120)}), its failures forgotten: ${standing({ ...resumed, next: runs[0] }, this.now())}.`;
  }

  /**
   * The schedule an id names, if the person may manage it; else what to answer. A schedule of
   * another thread that isn't theirs is "not found", so ids don't tell who made what elsewhere.
   */
  private async findManaged(request: ChatRequest, id: string): Promise<ScheduleView | string> {
    const missing = `No schedule ${inlineCode(id, 40)}: \`schedules\` lists this thread's.`;
    if (!SCHEDULE_ID.test(id.toLowerCase())) return missing;
    const schedule = await this.options.schedules.get(id.toLowerCase());
    if (!schedule) return missing;
    if (mayManage(schedule, this.who(request), this.options.admins)) return schedule;
    if (schedule.threadKey !== threadKey(request.conversation)) return missing;
    return `Only ${displayName(schedule.creator.name, 60)}, who made schedule ${inlineCode(schedule.id)}, or an admin can change it.`;
  }

  private who(request: ChatRequest): { platform: string; userId: string } {
    return { platform: request.conversation.platform, userId: request.user.id };
  }
}
