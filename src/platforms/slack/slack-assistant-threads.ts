import type { Redis } from "ioredis";
import type { Keys } from "../../redis/redis-keys.js";

/** As long as a thread's conversation is kept (thread memory). */
const TTL_SECONDS = 30 * 24 * 3600;
const UNTITLED = "untitled";
const TITLED = "titled";

/**
 * Slack's assistant threads (Agents & AI Apps): the threads whose assistant_thread_started the bot
 * saw, so a DM message in one of them is known to be in the assistant container (and its request
 * marked for setStatus), and whether the thread has been named after its first question yet. In
 * Redis, so any bot process knows; without the feature no thread is ever recorded.
 */
export class AssistantThreads {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  private key(teamId: string, channelId: string, threadTs: string): string {
    return this.keys.assistantThread(`${teamId}:${channelId}:${threadTs}`);
  }

  async started(teamId: string, channelId: string, threadTs: string): Promise<void> {
    await this.redis.set(this.key(teamId, channelId, threadTs), UNTITLED, "EX", TTL_SECONDS, "NX");
  }

  async isAssistantThread(teamId: string, channelId: string, threadTs: string): Promise<boolean> {
    return (await this.redis.exists(this.key(teamId, channelId, threadTs))) === 1;
  }

  /** True once per thread: for the first question, which names it. One step, so two bot processes can't both. */
  async claimTitle(teamId: string, channelId: string, threadTs: string): Promise<boolean> {
    return (await this.redis.set(this.key(teamId, channelId, threadTs), TITLED, "EX", TTL_SECONDS, "XX", "GET")) === UNTITLED;
  }
}
