import type { Redis } from "ioredis";
import type { ChatRequest } from "../../core/chat-request.js";
import type { Delivery, OutgoingFile } from "../../core/reply.js";
import type { Keys } from "../../redis/redis-keys.js";
import { LOCAL_REPLY_TTL_SECONDS, type LocalFile, type LocalReply } from "./local-replies.js";

const encode = (file: OutgoingFile): LocalFile => ({ name: file.name, mime: file.mime, base64: file.data.toString("base64") });

/** The delivery port for the local chat: replies go to a Redis stream the chat reads. */
export function localDelivery(redis: Redis, keys: Keys): Delivery {
  async function send(request: ChatRequest, reply: LocalReply): Promise<void> {
    const stream = keys.localReplies(request.eventId);
    await redis.multi().xadd(stream, "*", "reply", JSON.stringify(reply)).expire(stream, LOCAL_REPLY_TTL_SECONDS).exec();
  }
  return {
    status: (request, update) => send(request, { type: "status", text: update.text }),
    // The words of the answer come whole with it; the steps are shown as they run (their code too).
    event: async (request, event) => {
      if (event.type === "step-started") await send(request, { type: "step", step: event.step, code: event.code });
      if (event.type === "step-finished") await send(request, { type: "step", step: event.step, outcome: event.outcome });
    },
    answer: (request, answer) =>
      send(request, {
        type: "answer",
        markdown: answer.markdown,
        code: answer.code,
        images: answer.images.map(encode),
        files: answer.files.map(encode),
        tables: answer.tables.flatMap((table) => (table.csv ? [encode(table.csv)] : [])),
        skippedFiles: answer.skippedFiles,
      }),
    fail: (request, failure) => send(request, { type: "fail", code: failure.code, message: failure.message }),
  };
}
