import type { Conversation } from "../core/chat-request.js";

/**
 * Which channels may use a source: patterns `platform:workspace:channel` (`slack:T0123:C0456`,
 * `discord:9876:*`, `local:*`, `*`), where `*` matches anything, colons included. A channel is
 * named as threadKey names it, without the thread: a conversation without a workspace (a Discord
 * DM, the local chat) has "-" there.
 */

const PATTERN_CHARS = /^[\x21-\x7e]+$/;

/** The channel of a conversation, as patterns match it. */
export function channelOf(conversation: Conversation): string {
  return [conversation.platform, conversation.workspaceId ?? "-", conversation.channelId].join(":");
}

function compile(pattern: string): RegExp {
  const body = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${body}$`, "s");
}

export const channelPattern = {
  /** A pattern of printable characters without spaces: `*`, or three colon-separated parts. */
  valid(pattern: string): boolean {
    return PATTERN_CHARS.test(pattern) && (pattern === "*" || pattern.includes("*") || pattern.split(":").length >= 3);
  },
};

/** Whether channel matches any of patterns. */
export function channelAllowed(patterns: readonly string[], channel: string): boolean {
  return patterns.some((pattern) => compile(pattern).test(channel));
}
