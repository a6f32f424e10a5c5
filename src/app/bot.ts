import type { Config } from "../config.js";
import { FeedbackStore, rememberModelName } from "../feedback/feedback-store.js";
import type { Logger } from "../log.js";
import { startAdminServer } from "../admin/admin-server.js";
import type { BotDeps } from "../bot/bot-deps.js";
import { Intake } from "../bot/intake.js";
import { ScheduleControl } from "../bot/schedule-control.js";
import { startBotOps } from "../ops/bot-ops.js";
import type { PlatformListener } from "../platforms/platform-adapter.js";
import { configuredPlatforms, PLATFORMS } from "../platforms/registry.js";
import { keys } from "../redis/redis-keys.js";
import { RateLimiter } from "../queue/rate-limiter.js";
import { createRedis } from "../redis/redis-connection.js";
import { TurnQueue } from "../queue/turn-queue.js";
import { createScheduleStore } from "../schedules/create-schedules.js";
import { exitOnceStopped, waitForShutdownSignal } from "./shutdown.js";

/** `codebot bot`: connects every configured chat platform and feeds their messages to the queue. */
export async function runBot(config: Config, log: Logger): Promise<number> {
  const listening = configuredPlatforms(config).filter((platform) => platform.listen);
  if (!listening.length) {
    const setups = PLATFORMS.flatMap((platform) => (platform.setup ? [platform.setup] : []));
    log.warn(`no chat platform is configured (set ${setups.join(", and/or ")}): nothing to do. Try \`codebot chat\` to talk to the bot locally.`);
    return 0;
  }
  const redis = createRedis(config.REDIS_URL, log);
  const queue = new TurnQueue(redis, config.QUEUE_PREFIX, config.QUEUE_ATTEMPTS);
  const k = keys(config.QUEUE_PREFIX);
  // /metrics, /healthz, /readyz on BOT_METRICS_PORT: before the platforms connect, so /readyz can say they haven't yet.
  const ops = await startBotOps(config, log, redis, listening.map((platform) => platform.name));
  // Schedules (#20): their Stop buttons here, and the admin page's list; made and fired by the workers.
  const schedules = createScheduleStore(config, redis);
  // The admin page on ADMIN_PORT, when it is set (and a credential is): off by default.
  const admin = await startAdminServer(config, log, { redis, keys: k, queue: queue.queue, schedules });
  const intake = new Intake(queue, new RateLimiter(redis, config.QUEUE_PREFIX, config.USER_RATE_LIMIT_PER_MINUTE), redis, k, log, ops.metrics, config.ADMIN_USERS);
  const deps: BotDeps = { intake, feedback: new FeedbackStore(redis, k), redis, keys: k, schedules: new ScheduleControl(schedules, config.ADMIN_USERS, log) };
  // Discord's feedback buttons carry the model's hash only: say which name it stands for.
  await rememberModelName(redis, k, config.OPENAI_MODEL).catch((error) => log.warn({ err: error }, "could not record the model's name for feedback"));
  const platforms: Array<PlatformListener & { name: string }> = [];
  for (const platform of listening) platforms.push({ name: platform.name, ...(await platform.listen!(config, deps, log)) });
  for (const platform of platforms) ops.connected(platform.name, platform.connected);
  log.info({ platforms: platforms.map((platform) => platform.name) }, "bot started");
  const signal = await waitForShutdownSignal();
  log.info({ signal }, "bot stopping");
  await Promise.all(platforms.map((platform) => platform.stop()));
  await ops.close();
  await admin?.close();
  await queue.close();
  await schedules.close();
  redis.disconnect();
  exitOnceStopped(0);
  return 0;
}
