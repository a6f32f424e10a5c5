import type { Redis } from "ioredis";
import { localReplySchema } from "../src/platforms/local/local-replies.js";
import type { Keys } from "../src/redis/redis-keys.js";

/** Waits on a local request's reply stream until its answer (a failure throws). */
export async function awaitAnswer(reader: Redis, k: Keys, eventId: string): Promise<void> {
  let last = "0";
  for (;;) {
    const batch = await reader.xread("BLOCK", 5000, "STREAMS", k.localReplies(eventId), last);
    for (const [, entries] of batch ?? []) {
      for (const [id, fields] of entries) {
        last = id;
        const reply = localReplySchema.parse(JSON.parse(fields[1] ?? "{}"));
        if (reply.type === "fail") throw new Error(reply.message);
        if (reply.type === "answer") return;
      }
    }
  }
}
