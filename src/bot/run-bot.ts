import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { startDiscordBot } from "../platforms/discord/discord-bot.js";
import { startSlackBot } from "../platforms/slack/slack-app.js";
import { keys } from "../queue/queue-keys.js";
import { RateLimiter } from "../queue/rate-limiter.js";
import { createRedis } from "../queue/redis-connection.js";
import { TurnQueue } from "../queue/turn-queue.js";
import { waitForShutdownSignal } from "../shutdown.js";
import { Intake } from "./intake.js";

/** `codebot bot`: connects every configured chat platform and feeds their messages to the queue. */
export async function runBot(config: Config, log: Logger): Promise<number> {
  const platforms: Array<{ name: string; stop(): Promise<void> }> = [];
  if (!config.SLACK_BOT_TOKEN && !config.DISCORD_TOKEN) {
    log.warn("no chat platform is configured (set SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN, and/or DISCORD_TOKEN): nothing to do. Try `codebot chat` to talk to the bot locally.");
    return 0;
  }
  const redis = createRedis(config.REDIS_URL, log);
  const queue = new TurnQueue(redis, config.QUEUE_PREFIX, config.QUEUE_ATTEMPTS);
  const k = keys(config.QUEUE_PREFIX);
  const intake = new Intake(queue, new RateLimiter(redis, config.QUEUE_PREFIX, config.USER_RATE_LIMIT_PER_MINUTE), redis, k, log);
  if (config.SLACK_BOT_TOKEN) platforms.push({ name: "slack", ...(await startSlackBot(config, intake, log)) });
  if (config.DISCORD_TOKEN) platforms.push({ name: "discord", ...(await startDiscordBot(config, intake, log)) });
  log.info({ platforms: platforms.map((platform) => platform.name) }, "bot started");
  const signal = await waitForShutdownSignal();
  log.info({ signal }, "bot stopping");
  await Promise.all(platforms.map((platform) => platform.stop()));
  await queue.close();
  redis.disconnect();
  return 0;
}
