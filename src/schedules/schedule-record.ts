import { randomInt } from "node:crypto";
import { z } from "zod";
import { conversationSchema, platformSchema } from "../core/chat-request.js";

/** Letters and digits a schedule id is made of (no 0/o, 1/l/i: ids are read and typed by people). */
const ID_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";
const ID_LENGTH = 6;
export const SCHEDULE_ID = /^[a-hjkmnp-z2-9]{6}$/;

/** A new schedule id: 6 characters, about a billion of them (the store refuses one already taken). */
export function newScheduleId(): string {
  return Array.from({ length: ID_LENGTH }, () => ID_ALPHABET[randomInt(ID_ALPHABET.length)]).join("");
}

/** Longest request a schedule keeps (as a chat message is: text only, no attachments). */
export const MAX_REQUEST_CHARS = 40_000;

/** What a schedule is: set once, at its creation. Stored as JSON; read back through this schema. */
export const scheduleSchema = z.object({
  id: z.string().regex(SCHEDULE_ID),
  /** The thread it runs in (its session id and turn order key). */
  threadKey: z.string().min(1),
  conversation: conversationSchema,
  /** How its runs are answered in the thread (Slack's threadTs…), without any one request's status message. */
  replyContext: z.record(z.string()).default({}),
  /** Whose turn each run is: their access rules, their budget, their data-source permissions. */
  creator: z.object({ platform: platformSchema, id: z.string().min(1), name: z.string().min(1).max(200) }),
  /** What the access rules judge at each run: a DM or not, and the channel (a Discord thread's parent). */
  access: z.object({ isDm: z.boolean(), channelId: z.string().min(1) }).optional(),
  /** The request of each run: a question for the model, or a fenced python block run as written. */
  text: z.string().min(1).max(MAX_REQUEST_CHARS),
  cron: z.string().min(9).max(200),
  words: z.string().min(1).max(300),
  timeZone: z.string().min(1),
  createdAt: z.number().int(),
});
export type Schedule = z.infer<typeof scheduleSchema>;

/** How one run ended, as `schedules` and the admin page show it. */
export const runOutcomeSchema = z.enum(["answered", "failed", "refused", "cancelled"]);
export type RunOutcome = z.infer<typeof runOutcomeSchema>;

export const lastRunSchema = z.object({ outcome: runOutcomeSchema, at: z.number().int(), requestId: z.string() });
export type LastRun = z.infer<typeof lastRunSchema>;

/** A schedule as listed: what it is, and how it stands now. */
export interface ScheduleView extends Schedule {
  paused: boolean;
  /** Failed (or refused) runs in a row; SCHEDULE_MAX_FAILURES of them pause it. */
  failures: number;
  last?: LastRun;
  /** When it runs next (epoch ms), as its job scheduler has it; none while paused. */
  next?: number;
}

/** The person a schedule belongs to, as budgets and ADMIN_USERS name people: `slack:U123`. */
export function ownerOf(schedule: Pick<Schedule, "creator">): string {
  return `${schedule.creator.platform}:${schedule.creator.id}`;
}

/** Who may remove, pause or resume a schedule: the person who made it, or one of ADMIN_USERS (`platform:userId`). */
export function mayManage(schedule: Pick<Schedule, "creator">, who: { platform: string; userId: string }, admins: readonly string[]): boolean {
  return (schedule.creator.platform === who.platform && schedule.creator.id === who.userId) || admins.includes(`${who.platform}:${who.userId}`);
}
