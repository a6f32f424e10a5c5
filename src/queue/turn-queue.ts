import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { chatRequestSchema, threadKey, type ChatRequestInput } from "../core/chat-request.js";
import { jobIdForEvent, keys, TURN_QUEUE, type Keys } from "./queue-keys.js";
import { ThreadOrder } from "./thread-order.js";
import type { TurnJob } from "./turn-job.js";

export interface EnqueueOutcome {
  jobId: string;
  /** True when this event was enqueued before (a platform's retry): it will not run again. */
  duplicate: boolean;
}

const DAY = 24 * 3600;

/** Where adapters put requests: one BullMQ job per event, deduplicated by event id. */
export class TurnQueue {
  readonly queue: Queue<TurnJob>;
  private readonly order: ThreadOrder;
  private readonly keys: Keys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly attempts: number,
  ) {
    this.queue = new Queue<TurnJob>(TURN_QUEUE, { connection: redis, prefix });
    this.keys = keys(prefix);
    this.order = new ThreadOrder(redis, this.keys);
  }

  async enqueue(input: ChatRequestInput): Promise<EnqueueOutcome> {
    const request = chatRequestSchema.parse(input);
    const jobId = jobIdForEvent(request.eventId);
    // Claimed atomically, so concurrent re-deliveries of one event make one job; kept a day, the
    // window in which platforms retry.
    const claimed = await this.redis.set(this.keys.event(jobId), "1", "EX", DAY, "NX");
    if (!claimed) return { jobId, duplicate: true };
    try {
      const key = threadKey(request.conversation);
      const seq = await this.order.assign(key, jobId);
      await this.queue.add("turn", { request, threadKey: key, seq }, {
        jobId,
        attempts: this.attempts,
        backoff: { type: "exponential", delay: 2000 },
        removeOnComplete: { age: DAY, count: 10_000 },
        removeOnFail: { age: 7 * DAY },
      });
    } catch (error) {
      await this.redis.del(this.keys.event(jobId)); // not enqueued: a re-delivery may try again
      throw error;
    }
    return { jobId, duplicate: false };
  }

  /** Whether this event was enqueued already (a platform retrying it). */
  async seen(eventId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.event(jobIdForEvent(eventId)))) === 1;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
