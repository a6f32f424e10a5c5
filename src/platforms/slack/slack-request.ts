import type { AttachmentRef, ChatRequestInput } from "../../core/chat-request.js";

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
  files: SlackFile[];
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

/**
 * A Slack message for the bot as a platform-neutral request. A mention in a channel opens (or
 * continues) the thread under it; a DM's top level is one conversation with the bot, and a thread
 * inside a DM is its own.
 */
export function slackRequest(facts: SlackMessageFacts): ChatRequestInput {
  const mention = facts.botUserId ? new RegExp(`<@${facts.botUserId}(\\|[^>]*)?>`, "g") : undefined;
  const text = (mention ? facts.text.replace(mention, "") : facts.text).trim();
  const inThread = facts.threadTs !== undefined || !facts.isDm;
  const threadTs = facts.threadTs ?? facts.ts;
  return {
    // The message's own identity: Slack's retries, and the app_mention + message pair of one DM, share it.
    eventId: `slack:${facts.teamId}:${facts.channel}:${facts.ts}`,
    user: { id: facts.user, name: facts.userName },
    conversation: { platform: "slack", workspaceId: facts.teamId, channelId: facts.channel, threadId: inThread ? threadTs : facts.channel },
    text,
    attachments: slackAttachments(facts.files),
    messageId: facts.ts,
    replyContext: inThread ? { threadTs } : {},
    receivedAt: Date.now(),
  };
}
