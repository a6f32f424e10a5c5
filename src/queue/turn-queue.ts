import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { chatRequestSchema, threadKey, type ChatRequestInput, type Platform } from "../core/chat-request.js";
import { jobIdForEvent, keys, TURN_QUEUE } from "../redis/redis-keys.js";
import { EventClaims } from "./event-claims.js";
import { turnJobSchema, type TurnJob } from "./turn-job.js";

export interface EnqueueOutcome {
  jobId: string;
  /** True when this event was enqueued before (a platform's retry): it will not run again. */
  duplicate: boolean;
}

const DAY = 24 * 3600;

/** Where adapters put requests: one BullMQ job per event, deduplicated by event id. */
export class TurnQueue {
  readonly queue: Queue<TurnJob>;
  private readonly claims: EventClaims;

  constructor(
    redis: Redis,
    prefix: string,
    private readonly attempts: number,
  ) {
    this.queue = new Queue<TurnJob>(TURN_QUEUE, { connection: redis, prefix });
    this.claims = new EventClaims(redis, keys(prefix));
  }

  async enqueue(input: ChatRequestInput): Promise<EnqueueOutcome> {
    const request = chatRequestSchema.parse(input);
    const jobId = jobIdForEvent(request.eventId);
    const key = threadKey(request.conversation);
    const place = await this.place(jobId, key);
    if (place === undefined) return { jobId, duplicate: true };
    try {
      await this.queue.add("turn", { request, threadKey: key, seq: place }, {
        jobId,
        attempts: this.attempts,
        backoff: { type: "exponential", delay: 2000 },
        removeOnComplete: { age: DAY, count: 10_000 },
        removeOnFail: { age: 7 * DAY },
      });
    } catch (error) {
      // Not enqueued: a re-delivery may try again at once (if Redis is out of reach this fails
      // too, and the re-delivery takes the claim over once it is stale). The place is a gap.
      await this.claims.release(jobId, place).catch(() => undefined);
      throw error;
    }
    await this.claims.confirm(jobId, place);
    return { jobId, duplicate: false };
  }

  /**
   * Claims the event and its place in the thread in one step (concurrent re-deliveries of one
   * event make one job); a claim whose enqueue was cut is taken over by this re-delivery.
   * Undefined: a duplicate.
   */
  private async place(jobId: string, key: string): Promise<number | undefined> {
    const claim = await this.claims.claim(jobId, key);
    if (claim.kind !== "stale") return claim.kind === "new" ? claim.seq : undefined;
    if (await this.queue.getJob(jobId)) {
      // The cut came after the job was added: it is queued already.
      await this.claims.confirm(jobId, claim.seq);
      return undefined;
    }
    return this.claims.takeOver(jobId, key, claim);
  }

  /** Who asked for the event's turn (as its queued job says) while it is queued or running; undefined once it is over. */
  async requester(eventId: string): Promise<(TurnJob["request"]["user"] & { platform: Platform }) | undefined> {
    const job = await this.queue.getJob(jobIdForEvent(eventId));
    const parsed = turnJobSchema.safeParse(job?.data);
    if (!job || !parsed.success) return undefined;
    const state = await job.getState();
    return state === "completed" || state === "failed" ? undefined : { ...parsed.data.request.user, platform: parsed.data.request.conversation.platform };
  }

  /** Whether this event was enqueued already (a platform retrying it). */
  seen(eventId: string): Promise<boolean> {
    return this.claims.seen(jobIdForEvent(eventId));
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
