import type { Redis } from "ioredis";
import { checkAccess, type AccessRules } from "../core/access-policy.js";
import type { ChatRequestInput, Platform } from "../core/chat-request.js";
import type { Logger } from "../log.js";
import type { RateLimiter } from "../queue/rate-limiter.js";
import type { TurnQueue } from "../queue/turn-queue.js";
import { requestCancel } from "../queue/cancellation.js";
import type { Keys } from "../redis/redis-keys.js";
import type { IntakeMetrics } from "../ops/intake-metrics.js";
import { SCHEDULE_KINDS } from "./text-commands.js";

export type IntakeOutcome =
  | { status: "queued" }
  | { status: "duplicate" }
  | { status: "refused"; message: string };

/** What a press of Stop did: stopping, refused (the request is someone else's: the asker's name), or nothing (the request is over). */
export type StopOutcome = { status: "stopping" } | { status: "refused"; asker: string } | { status: "over" };

/** What the person refused is told (the asker's name as the platform shows text: escaped by the caller). */
export function stopRefusal(asker: string): string {
  return `Only ${asker} (who asked) or an admin can stop this.`;
}

/** What a press of Stop on a request that is over says. */
export const STOP_TOO_LATE = "That request has already finished.";

/**
 * Where every adapter hands its requests: access rules, the per-user rate limit, then the queue.
 * Adapters never run code; they turn the outcome into a reaction or a polite reply.
 */
export class Intake {
  constructor(
    private readonly queue: TurnQueue,
    private readonly limiter: RateLimiter,
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly log: Logger,
    /** Counts each request's outcome by platform (the bot's /metrics); none in tests. */
    private readonly metrics?: IntakeMetrics,
    /** ADMIN_USERS: `platform:userId` of the people who may stop anyone's request. */
    private readonly admins: readonly string[] = [],
  ) {}

  /**
   * Access rules, dedupe and the rate limit: an outcome to tell the user, or undefined when the
   * request may be queued. accessChannelId: the channel the rules judge, when the conversation is a
   * thread of it (Discord threads are channels of their own).
   */
  async check(request: ChatRequestInput, rules: AccessRules, isDm: boolean, accessChannelId = request.conversation.channelId): Promise<IntakeOutcome | undefined> {
    return this.counted(request, () => this.judge(request, rules, isDm, accessChannelId));
  }

  private async judge(request: ChatRequestInput, rules: AccessRules, isDm: boolean, accessChannelId: string): Promise<IntakeOutcome | undefined> {
    const { conversation, user } = request;
    const access = checkAccess(rules, { workspaceId: conversation.workspaceId, channelId: accessChannelId, userId: user.id, isDm });
    const log = this.log.child({ requestId: request.eventId, platform: conversation.platform });
    if (!access.allowed) {
      log.info({ user: user.id, channel: accessChannelId }, "request refused by access rules");
      this.metrics?.request(conversation.platform, "refused_access");
      return { status: "refused", message: access.reason };
    }
    // A schedule is judged again at each of its runs, as this request was: its DM-ness and channel go with it.
    if ((SCHEDULE_KINDS as readonly string[]).includes(request.kind ?? "")) request.access = { isDm, channelId: accessChannelId };
    if (await this.queue.seen(request.eventId)) {
      this.metrics?.request(conversation.platform, "duplicate");
      return { status: "duplicate" };
    }
    if (!(await this.limiter.take(`${conversation.platform}:${user.id}`))) {
      log.info({ user: user.id }, "request refused by the rate limit");
      this.metrics?.request(conversation.platform, "refused_rate");
      return { status: "refused", message: "You're sending requests faster than I can take them: please wait a minute and ask again." };
    }
    return undefined;
  }

  async enqueue(request: ChatRequestInput): Promise<IntakeOutcome> {
    const outcome = await this.counted(request, () => this.queue.enqueue(request));
    this.metrics?.request(request.conversation.platform, outcome.duplicate ? "duplicate" : "queued");
    this.log.info({ requestId: request.eventId, jobId: outcome.jobId, duplicate: outcome.duplicate }, outcome.duplicate ? "duplicate event ignored" : "request queued");
    return { status: outcome.duplicate ? "duplicate" : "queued" };
  }

  /** check, then enqueue. */
  async submit(request: ChatRequestInput, rules: AccessRules, isDm: boolean, accessChannelId?: string): Promise<IntakeOutcome> {
    return (await this.check(request, rules, isDm, accessChannelId)) ?? this.enqueue(request);
  }

  /** Runs a step of the intake; one that throws (Redis away) is counted as an error, then rethrown. */
  private async counted<T>(request: ChatRequestInput, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      this.metrics?.request(request.conversation.platform, "error");
      throw error;
    }
  }

  cancel(eventId: string): Promise<void> {
    return requestCancel(this.redis, this.keys, eventId);
  }

  /**
   * A press of a request's Stop button: it stops the request only for the person who asked (or one
   * of ADMIN_USERS); anyone else is told whose it is. The asker comes from the queued job, not the
   * button, so nothing a client sends can claim someone else's request.
   */
  async stop(eventId: string, who: { platform: Platform; userId: string }): Promise<StopOutcome> {
    const asker = await this.queue.requester(eventId);
    const log = this.log.child({ requestId: eventId, platform: who.platform });
    if (!asker) return { status: "over" };
    const admin = this.admins.includes(`${who.platform}:${who.userId}`);
    if ((asker.platform !== who.platform || asker.id !== who.userId) && !admin) {
      log.info({ user: who.userId, asker: asker.id }, "stop refused: not the asker's");
      return { status: "refused", asker: asker.name };
    }
    log.info({ user: who.userId, admin }, "stop requested");
    await this.cancel(eventId);
    return { status: "stopping" };
  }
}
