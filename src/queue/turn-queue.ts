import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { chatRequestSchema, threadKey, type ChatRequestInput } from "../core/chat-request.js";
import { jobIdForEvent, keys, TURN_QUEUE } from "./queue-keys.js";
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

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly attempts: number,
  ) {
    this.queue = new Queue<TurnJob>(TURN_QUEUE, { connection: redis, prefix });
    this.order = new ThreadOrder(redis, keys(prefix));
  }

  async enqueue(input: ChatRequestInput): Promise<EnqueueOutcome> {
    const request = chatRequestSchema.parse(input);
    const jobId = jobIdForEvent(request.eventId);
    if (await this.queue.getJob(jobId)) return { jobId, duplicate: true };
    const key = threadKey(request.conversation);
    const seq = await this.order.assign(key, jobId);
    const job = await this.queue.add("turn", { request, threadKey: key, seq }, {
      jobId,
      attempts: this.attempts,
      backoff: { type: "exponential", delay: 2000 },
      removeOnComplete: { age: DAY, count: 10_000 },
      removeOnFail: { age: 7 * DAY },
    });
    if (job.data.seq !== seq) {
      await this.order.skip(key, seq); // a concurrent enqueue of the same event won the race
      return { jobId, duplicate: true };
    }
    return { jobId, duplicate: false };
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
