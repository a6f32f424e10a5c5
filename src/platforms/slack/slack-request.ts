import { fencedPython } from "../../core/markdown/fenced-code.js";
import type { DmThread } from "./slack-latest-dm-threads.js";
import { textCommand, type TextCommand } from "../../bot/text-commands.js";
import { MAX_ATTACHMENTS, type AttachmentRef, type ChatRequestInput } from "../../core/chat-request.js";
import { displayName } from "../../core/display-text.js";
import { neutralizeMassMentions } from "../../core/mentions.js";

/** The parts of a Slack file object (as in message events' `files`) that codebot uses. */
export interface SlackFile {
  id?: string;
  name?: string | null;
  title?: string | null;
  mimetype?: string;
  size?: number;
  url_private_download?: string;
  url_private?: string;
  mode?: string;
}

export interface SlackMessageFacts {
  teamId: string;
  channel: string;
  user: string;
  userName: string;
  text: string;
  ts: string;
  threadTs?: string;
  /** The message's own files. */
  files: SlackFile[];
  /** Files posted earlier in the thread (oldest first) that the message may refer to. */
  earlierFiles?: SlackFile[];
  botUserId?: string;
  isDm: boolean;
  /** In a Slack assistant thread (Agents & AI Apps) whose start the bot saw. */
  assistantThread?: boolean;
}

/** The parts of a slash command payload that codebot uses. */
export interface SlackCommandFacts {
  teamId: string;
  channel: string;
  user: string;
  userName: string;
  /** Unique per invocation: slash commands have no ts. */
  triggerId: string;
}

/** Longest assistant thread title set. */
const TITLE_MAX = 80;

/** Slack files that can be fetched (not external links, not Slack's own docs such as canvases). */
export function slackAttachments(files: SlackFile[]): AttachmentRef[] {
  return files.flatMap((file) => {
    const url = file.url_private_download ?? file.url_private;
    if (!url || file.mode === "external" || file.mode === "tombstone") return [];
    return [{ name: file.name ?? file.title ?? file.id ?? "file", size: file.size ?? 0, mime: file.mimetype ?? "application/octet-stream", url }];
  });
}

function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/**
 * The attachments a message takes: its own files and the thread's earlier ones, the newest
 * MAX_ATTACHMENTS of them (in their order); leftOut counts the older ones not taken.
 */
export function newestAttachments(facts: Pick<SlackMessageFacts, "files" | "earlierFiles">): { attachments: AttachmentRef[]; leftOut: number } {
  const own = slackAttachments(facts.files);
  const seen = new Set(own.map((file) => file.url));
  const earlier = slackAttachments(facts.earlierFiles ?? []).filter((file) => !seen.has(file.url) && seen.add(file.url));
  const room = Math.max(0, MAX_ATTACHMENTS - own.length);
  const attachments = [...own.slice(0, MAX_ATTACHMENTS), ...earlier.slice(earlier.length - Math.min(room, earlier.length))];
  return { attachments, leftOut: own.length + earlier.length - attachments.length };
}

/** What the user (and the model) are told when older thread files were left out. */
export function leftOutNote(leftOut: number): string {
  return `${leftOut} older ${leftOut === 1 ? "file" : "files"} in this thread ${leftOut === 1 ? "was" : "were"} not attached: at most ${MAX_ATTACHMENTS} files are taken per message, the newest. Post an older file again to use it.`;
}

/** What the person said: the bot's mention taken out, Slack's escaping undone (code must reach Python as typed). */
export function spokenText(facts: Pick<SlackMessageFacts, "text" | "botUserId">): string {
  const mention = facts.botUserId ? new RegExp(`<@${facts.botUserId}(\\|[^>]*)?>`, "g") : undefined;
  return unescapeSlack(mention ? facts.text.replace(mention, "") : facts.text).trim();
}

/** A message that is only a command word ("reset", "files zip", …) and carries no files of its own. */
export function messageCommand(facts: SlackMessageFacts): TextCommand | undefined {
  return facts.files.length ? undefined : textCommand(spokenText(facts));
}

/** An assistant thread's title from its first question: one line, clipped, no mass mention. */
export function assistantTitle(question: string): string {
  return neutralizeMassMentions(displayName(question.replace(/\s+/g, " ").trim(), TITLE_MAX)) || "Data question";
}

/**
 * A Slack message for the bot as a platform-neutral request. A mention in a channel opens (or
 * continues) the thread under it; a DM's top level is one conversation with the bot, and a thread
 * inside a DM (an assistant thread too) is its own. A message that is only "reset", "files [zip]"
 * or "export [zip]" is that command for its thread (Slack has no slash commands in threads).
 * Requests from an assistant thread carry replyContext.assistantThread = "1".
 */
export function slackRequest(facts: SlackMessageFacts): ChatRequestInput {
  const { attachments, leftOut } = newestAttachments(facts);
  const said = spokenText(facts);
  const command = messageCommand(facts);
  // The model is told too (code run as written stays as written; the user gets an ephemeral note).
  const text = command ? command.text : leftOut && fencedPython(said) === undefined ? `${said}\n\n[${leftOutNote(leftOut)}]` : said;
  const inThread = facts.threadTs !== undefined || !facts.isDm;
  const threadTs = facts.threadTs ?? facts.ts;
  const assistant: Record<string, string> = facts.assistantThread && facts.threadTs !== undefined ? { assistantThread: "1" } : {};
  return {
    // The message's own identity: Slack's retries, and the app_mention + message pair of one DM, share it.
    eventId: `slack:${facts.teamId}:${facts.channel}:${facts.ts}`,
    kind: command?.kind ?? "message",
    user: { id: facts.user, name: facts.userName },
    conversation: { platform: "slack", workspaceId: facts.teamId, channelId: facts.channel, threadId: inThread ? threadTs : facts.channel },
    text,
    attachments: command ? [] : attachments,
    messageId: facts.ts,
    replyContext: inThread ? { threadTs, ...assistant } : {},
    receivedAt: Date.now(),
  };
}

/**
 * A slash command (/reset, /files, /export) in a DM with the bot, as a request for the DM's
 * latest conversation: Slack sends slash commands with no thread, and never from a thread.
 */
export function slashCommandRequest(facts: SlackCommandFacts, command: TextCommand, thread: DmThread): ChatRequestInput {
  return {
    eventId: `slack:${facts.teamId}:${facts.channel}:command:${facts.triggerId}`.slice(0, 200),
    kind: command.kind,
    user: { id: facts.user, name: facts.userName },
    conversation: { platform: "slack", workspaceId: facts.teamId, channelId: facts.channel, threadId: thread.threadId },
    text: command.text,
    attachments: [],
    replyContext: thread.replyContext,
    receivedAt: Date.now(),
  };
}
