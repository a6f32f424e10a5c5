import { randomUUID } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import { userInfo } from "node:os";
import type { Redis } from "ioredis";
import type { AttachmentRef } from "../../core/chat-request.js";
import type { Keys } from "../../redis/redis-keys.js";
import type { TurnQueue } from "../../queue/turn-queue.js";
import type { RequestKind } from "../../core/chat-request.js";
import { BlobStore } from "./blob-store.js";
import { localReplySchema, type LocalReply } from "./local-replies.js";

export class LocalChatError extends Error {
  constructor(
    message: string,
    readonly code: "NO_WORKER" | "FILE_UNREADABLE" | "FILE_TOO_LARGE",
  ) {
    super(message);
  }
}

export interface LocalClientOptions {
  redis: Redis;
  keys: Keys;
  queue: TurnQueue;
  maxFileBytes: number;
  /** How long to wait for a worker to pick a request up before saying none is running. */
  pickupTimeoutMs: number;
  /** How long a turn may take once picked up. */
  turnTimeoutMs: number;
}

const mimeByExtension: Record<string, string> = {
  csv: "text/csv", tsv: "text/tab-separated-values", txt: "text/plain", json: "application/json",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xls: "application/vnd.ms-excel",
  png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", pdf: "application/pdf", parquet: "application/vnd.apache.parquet",
};

/** While workers are busy, how often the queue is looked at again (and the user told, if it changed). */
const QUEUE_RECHECK_MS = 5000;

function guessMime(name: string): string {
  return mimeByExtension[name.split(".").pop()?.toLowerCase() ?? ""] ?? "application/octet-stream";
}

/**
 * The local chat's side of the pipeline: a message becomes a request in the same queue a Slack
 * or Discord message goes to, and the worker's replies come back over a Redis stream.
 */
export class LocalClient {
  private readonly blobs: BlobStore;
  readonly user = { id: userInfo().username || "local", name: userInfo().username || "you" };

  constructor(private readonly options: LocalClientOptions) {
    this.blobs = new BlobStore(options.redis, options.keys);
  }

  /** Uploads the files and enqueues the message; returns the request's event id. */
  async send(threadId: string, text: string, paths: string[] = [], kind: RequestKind = "message"): Promise<string> {
    const attachments: AttachmentRef[] = [];
    for (const path of paths) attachments.push(await this.attach(path));
    const eventId = `local:${randomUUID()}`;
    await this.options.queue.enqueue({
      eventId,
      kind,
      user: this.user,
      conversation: { platform: "local", channelId: "cli", threadId },
      text,
      attachments,
      receivedAt: Date.now(),
    });
    return eventId;
  }

  /**
   * Yields the request's replies until its answer or failure. While no worker has picked it up, a
   * status says how many requests are ahead when workers are busy; "no worker" (NO_WORKER) is said
   * only when none has been seen for the pickup time.
   */
  async *replies(eventId: string): AsyncGenerator<LocalReply> {
    const stream = this.options.keys.localReplies(eventId);
    const reader = this.options.redis.duplicate();
    reader.on("error", () => undefined); // the main connection reports Redis problems; this one only waits
    let lastId = "0";
    let pickedUp = false;
    let deadline = Date.now() + this.options.pickupTimeoutMs;
    let lastQueued = "";
    try {
      for (;;) {
        if (Date.now() > deadline) {
          if (pickedUp) throw new LocalChatError("The worker stopped answering this request.", "NO_WORKER");
          const queued = await this.queuedBehind();
          if (queued === undefined) {
            throw new LocalChatError(
              `No worker picked the request up within ${Math.round(this.options.pickupTimeoutMs / 1000)} s: is \`codebot worker\` running (or \`docker compose up\`)? The request stays queued and runs when a worker starts.`,
              "NO_WORKER",
            );
          }
          const text = `Queued: the workers are busy, ${queued} ${queued === 1 ? "request is" : "requests are"} ahead of this one.`;
          if (text !== lastQueued) yield { type: "status", text };
          lastQueued = text;
          deadline = Date.now() + QUEUE_RECHECK_MS;
        }
        const batch = await reader.xread("BLOCK", 1000, "STREAMS", stream, lastId);
        for (const [, entries] of batch ?? []) {
          for (const [id, fields] of entries) {
            lastId = id;
            if (!pickedUp) deadline = Date.now() + this.options.turnTimeoutMs;
            pickedUp = true;
            const reply = localReplySchema.parse(JSON.parse(fields[1] ?? "{}"));
            yield reply;
            if (reply.type === "answer" || reply.type === "fail") return;
          }
        }
      }
    } finally {
      reader.disconnect();
    }
  }

  /** How many requests are ahead in the queue while workers are running; undefined when no worker is. */
  private async queuedBehind(): Promise<number | undefined> {
    const { queue } = this.options.queue;
    if ((await queue.getWorkersCount()) === 0) return undefined;
    const counts = await queue.getJobCounts("active", "waiting", "prioritized");
    return Math.max(0, (counts.active ?? 0) + (counts.waiting ?? 0) + (counts.prioritized ?? 0) - 1);
  }

  private async attach(path: string): Promise<AttachmentRef> {
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new LocalChatError(`Cannot read ${path}: not a readable file.`, "FILE_UNREADABLE");
    const name = basename(path);
    if (info.size > this.options.maxFileBytes) {
      throw new LocalChatError(`"${name}" is ${(info.size / 1048576).toFixed(1)} MB, over the ${Math.round(this.options.maxFileBytes / 1048576)} MB limit for one file.`, "FILE_TOO_LARGE");
    }
    const url = await this.blobs.put(await readFile(path));
    return { name, size: info.size, mime: guessMime(name), url };
  }
}
