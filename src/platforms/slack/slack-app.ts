import { App, LogLevel, SocketModeReceiver } from "@slack/bolt";
import type { SlackConfig } from "../../config.js";
import type { AccessRules } from "../../core/access-policy.js";
import { AssistantThreads } from "./slack-assistant-threads.js";
import type { BotDeps } from "../../bot/bot-deps.js";
import { LatestDmThreads } from "./slack-latest-dm-threads.js";
import type { Logger } from "../../log.js";
import { slackClientOptions, slackLogger } from "./slack-client-options.js";
import { registerSlackListeners } from "./slack-listeners.js";

export interface SlackBot {
  /** "socket" (SLACK_APP_TOKEN set) or "http" (events POSTed to PORT at /slack/events). */
  mode: "socket" | "http";
  stop(): Promise<void>;
  /** Socket Mode: its WebSocket to Slack is open (Bolt reconnects on its own); HTTP: always, once started. */
  connected(): boolean;
}

/** SLACK_ALLOWED_CHANNELS, SLACK_ALLOWED_USERS, SLACK_ALLOW_DMS as access rules. */
export function slackAccessRules(config: SlackConfig): AccessRules {
  return { workspaces: [], channels: config.SLACK_ALLOWED_CHANNELS, users: config.SLACK_ALLOWED_USERS, allowDms: config.SLACK_ALLOW_DMS };
}

/**
 * Starts the Slack side of the bot. Socket Mode when SLACK_APP_TOKEN is set (no public URL
 * needed), otherwise Bolt's HTTP receiver on PORT, which verifies every request's signature and
 * serves nothing but Slack's requests (the bot's ops endpoints have a port of their own).
 */
export async function startSlackBot(config: SlackConfig, { intake, feedback, redis, keys, schedules }: BotDeps, log: Logger): Promise<SlackBot> {
  const slackLog = log.child({ platform: "slack" });
  // No request copies on errors, the SDKs' lines through codebot's logger (slack-client-options.ts).
  const clientOptions = slackClientOptions(config, slackLog);
  const logger = slackLogger(slackLog.child({ component: "slack-sdk" }));
  const mode = config.SLACK_APP_TOKEN ? "socket" : "http";
  const receiver = mode === "socket" ? new SocketModeReceiver({ appToken: config.SLACK_APP_TOKEN ?? "", logger, logLevel: LogLevel.WARN, installerOptions: { clientOptions } }) : undefined;
  let socketOpen = false;
  receiver?.client.on("connected", () => (socketOpen = true));
  for (const gone of ["reconnecting", "disconnected"]) receiver?.client.on(gone, () => (socketOpen = false));
  const app = new App({
    token: config.SLACK_BOT_TOKEN,
    clientOptions,
    logger,
    logLevel: LogLevel.WARN,
    ...(receiver ? { receiver } : { signingSecret: config.SLACK_SIGNING_SECRET }),
  });
  registerSlackListeners(app, {
    intake,
    feedback,
    assistantThreads: new AssistantThreads(redis, keys),
    latestDmThreads: new LatestDmThreads(redis, keys),
    schedules,
    log: slackLog,
    rules: slackAccessRules(config),
  });
  await app.start(config.PORT);
  slackLog.info({ mode, port: mode === "http" ? config.PORT : undefined }, "slack connected");
  return { mode, stop: () => app.stop().then(() => undefined), connected: () => !receiver || socketOpen };
}
