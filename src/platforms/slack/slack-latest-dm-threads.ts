import type { Redis } from "ioredis";
import { z } from "zod";
import type { Keys } from "../../redis/redis-keys.js";

/** As long as a thread's conversation is kept (thread memory). */
const TTL_SECONDS = 30 * 24 * 3600;

const dmThreadSchema = z.object({
  /** The conversation's threadId (a thread's ts, or the DM channel for its top level). */
  threadId: z.string().min(1).max(200),
  /** The replyContext its requests carried (threadTs, assistantThread). */
  replyContext: z.record(z.string().max(200)),
});
export type DmThread = z.infer<typeof dmThreadSchema>;

/**
 * The conversation each user last had with the bot in their DM with it. Slack sends slash
 * commands without a thread (and not at all from threads, assistant threads included), so
 * /reset, /files and /export in that DM act on this one.
 */
export class LatestDmThreads {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async remember(teamId: string, channelId: string, thread: DmThread): Promise<void> {
    await this.redis.set(this.keys.latestDmThread(`${teamId}:${channelId}`), JSON.stringify(dmThreadSchema.parse(thread)), "EX", TTL_SECONDS);
  }

  async latest(teamId: string, channelId: string): Promise<DmThread | undefined> {
    const raw = await this.redis.get(this.keys.latestDmThread(`${teamId}:${channelId}`));
    if (!raw) return undefined;
    try {
      const parsed = dmThreadSchema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }
}
