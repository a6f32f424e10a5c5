import { randomUUID } from "node:crypto";
import type { ChatRequestInput } from "../../src/core/chat-request.js";
import { localReplySchema, type LocalReply } from "../../src/platforms/local/local-replies.js";
import type { Pipeline } from "./pipeline-fixture.js";

/** A local (terminal) request in a thread, as `codebot ask` would enqueue it. */
export function localRequest(threadId: string, text: string, eventId = `local:${randomUUID()}`, userId = "U1"): ChatRequestInput {
  return { eventId, user: { id: userId, name: "Ada" }, conversation: { platform: "local", channelId: "cli", threadId }, text, receivedAt: Date.now() };
}

/** Every reply written so far for the request (status updates, the answer or the failure). */
export async function repliesOf(pipeline: Pipeline, eventId: string): Promise<LocalReply[]> {
  const entries = await pipeline.redis.xrange(pipeline.keys.localReplies(eventId), "-", "+");
  return entries.map(([, fields]) => localReplySchema.parse(JSON.parse(fields[1] ?? "{}")));
}

/**
 * Waits for the request's final reply on its local reply stream; returns every reply and when the
 * final one was written (the stream entry's id, which Redis stamps in milliseconds).
 */
export async function finalReply(pipeline: Pipeline, eventId: string, timeoutMs = 90_000): Promise<{ replies: LocalReply[]; at: number }> {
  const started = Date.now();
  for (;;) {
    const entries = await pipeline.redis.xrange(pipeline.keys.localReplies(eventId), "-", "+");
    const replies = entries.map(([, fields]) => localReplySchema.parse(JSON.parse(fields[1] ?? "{}")));
    const last = entries.at(-1)?.[0] ?? "0-0";
    if (replies.some((reply) => reply.type === "answer" || reply.type === "fail")) return { replies, at: Number(last.split("-")[0]) };
    if (Date.now() - started > timeoutMs) throw new Error(`no final reply for ${eventId}: ${JSON.stringify(replies)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The answers' and failures' text, failures prefixed with FAIL. */
export const answerText = (replies: LocalReply[]) =>
  replies.flatMap((reply) => (reply.type === "answer" ? [reply.markdown] : reply.type === "fail" ? [`FAIL ${reply.message}`] : [])).join("\n");
