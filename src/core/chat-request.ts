import { z } from "zod";
import { PLATFORM_NAMES, type Platform } from "./platform-names.js";

export type { Platform };
export const platformSchema = z.enum(PLATFORM_NAMES);

/** Where a message was said: a thread is the unit of sharing (one session, one conversation). */
export const conversationSchema = z.object({
  platform: platformSchema,
  /** Slack team / Discord guild; absent for DMs on Discord and for the local chat. */
  workspaceId: z.string().optional(),
  channelId: z.string().min(1),
  /** The thread's root id (Slack thread_ts, Discord thread channel id, local thread name). */
  threadId: z.string().min(1),
});
export type Conversation = z.infer<typeof conversationSchema>;

/**
 * A file the user attached, by reference only: the worker fetches it through the platform's
 * attachment source. No bytes and no credentials ever sit in a queued job.
 */
export const attachmentRefSchema = z.object({
  name: z.string().min(1).max(1000),
  size: z.number().int().nonnegative(),
  mime: z.string().default("application/octet-stream"),
  /** Where to fetch it: a platform URL, or `blob:<key>` for bytes the local chat put in Redis. */
  url: z.string().min(1),
});
export type AttachmentRef = z.infer<typeof attachmentRefSchema>;

/** Attachments one request carries at most. */
export const MAX_ATTACHMENTS = 20;

export const requestKindSchema = z.enum([
  "message", // a question for the model (or a fenced python block, run as written)
  "run", // code to run as written, with no model (Discord /run, its code box, "Run code" on a message)
  "reset", // a fresh session and conversation for this thread
  "files", // list the session's files (text "zip": send them all as one zip)
  "export", // the thread as a Jupyter notebook (text "zip": the session's files too)
  "schedule", // a recurring request of this thread (text "<when>: <request>"; src/schedules/)
  "schedules", // list the thread's schedules (in a DM: all of the person's)
  "unschedule", // remove a schedule (text: its id, or "all": the thread's)
  "resume", // start a paused schedule again (text: its id)
]);
export type RequestKind = z.infer<typeof requestKindSchema>;

/** One platform-neutral request: what the bot enqueues and a worker takes. */
export const chatRequestSchema = z.object({
  /** Unique per platform event: the job id, so a re-delivered event runs once. */
  eventId: z.string().min(1).max(200),
  kind: requestKindSchema.default("message"),
  user: z.object({ id: z.string().min(1), name: z.string().min(1).max(200) }),
  conversation: conversationSchema,
  text: z.string().max(40_000),
  attachments: z.array(attachmentRefSchema).max(MAX_ATTACHMENTS).default([]),
  /** The platform message this request answers to (Slack ts, Discord message id), when there is one. */
  messageId: z.string().optional(),
  /**
   * Platform-specific reply routing the adapter needs back. Slack: `threadTs` (the thread to answer
   * in; absent at a DM's top level) and `assistantThread: "1"` when the request comes from a Slack
   * assistant thread (Agents & AI Apps), where the delivery shows progress with
   * assistant.threads.setStatus. Discord: `statusMessageId`, the command's deferred reply to edit.
   */
  replyContext: z.record(z.string()).default({}),
  receivedAt: z.number().int(),
  /**
   * What the access rules judged at intake (a DM or not, and the channel: a Discord thread's parent),
   * set on the schedule commands, whose schedule is judged again the same way at each of its runs.
   */
  access: z.object({ isDm: z.boolean(), channelId: z.string().min(1) }).optional(),
  /** Set on a run of a schedule (src/schedules/): its id, its when in words and the time the run was due. */
  schedule: z.object({ id: z.string().min(1).max(20), words: z.string().max(300), dueAt: z.number().int() }).optional(),
});
export type ChatRequest = z.infer<typeof chatRequestSchema>;
export type ChatRequestInput = z.input<typeof chatRequestSchema>;

/** The key of a thread: its sandbox session id, its queue ordering key, its memory key. */
export function threadKey(conversation: Conversation): string {
  return [conversation.platform, conversation.workspaceId ?? "-", conversation.channelId, conversation.threadId].join(":");
}
