import { fencedPython } from "../../agent/fenced-code.js";
import { MAX_ATTACHMENTS, type AttachmentRef, type ChatRequestInput } from "../../core/chat-request.js";

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
}

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

/**
 * A Slack message for the bot as a platform-neutral request. A mention in a channel opens (or
 * continues) the thread under it; a DM's top level is one conversation with the bot, and a thread
 * inside a DM is its own.
 */
export function slackRequest(facts: SlackMessageFacts): ChatRequestInput {
  const mention = facts.botUserId ? new RegExp(`<@${facts.botUserId}(\\|[^>]*)?>`, "g") : undefined;
  const { attachments, leftOut } = newestAttachments(facts);
  // Slack sends message text with &, < and > escaped; code must reach Python as typed.
  const said = unescapeSlack(mention ? facts.text.replace(mention, "") : facts.text).trim();
  // The model is told too (code run as written stays as written; the user gets an ephemeral note).
  const text = leftOut && fencedPython(said) === undefined ? `${said}\n\n[${leftOutNote(leftOut)}]` : said;
  const inThread = facts.threadTs !== undefined || !facts.isDm;
  const threadTs = facts.threadTs ?? facts.ts;
  return {
    // The message's own identity: Slack's retries, and the app_mention + message pair of one DM, share it.
    eventId: `slack:${facts.teamId}:${facts.channel}:${facts.ts}`,
    user: { id: facts.user, name: facts.userName },
    conversation: { platform: "slack", workspaceId: facts.teamId, channelId: facts.channel, threadId: inThread ? threadTs : facts.channel },
    text,
    attachments,
    messageId: facts.ts,
    replyContext: inThread ? { threadTs } : {},
    receivedAt: Date.now(),
  };
}
