import { createHash } from "node:crypto";

export const TURN_QUEUE = "turns";

/** A BullMQ job id for an event id: stable (so a re-delivered event is the same job) and free of ':'. */
export function jobIdForEvent(eventId: string): string {
  return `ev-${createHash("sha256").update(eventId).digest("hex").slice(0, 40)}`;
}

/** Redis keys of codebot's own data, under the queue prefix so deployments and tests don't mix. */
export function keys(prefix: string) {
  return {
    event: (jobId: string) => `${prefix}:event:${jobId}`,
    thread: (threadKey: string, part: string) => `${prefix}:thread:{${threadKey}}:${part}`,
    usage: (kind: "user" | "thread", id: string) => `${prefix}:usage:${kind}:${id}`,
    blob: (id: string) => `${prefix}:blob:${id}`,
    localReplies: (eventId: string) => `${prefix}:local:replies:${eventId}`,
    cancelChannel: `${prefix}:cancel`,
  };
}
export type Keys = ReturnType<typeof keys>;
