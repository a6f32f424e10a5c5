import { App, LogLevel } from "@slack/bolt";
import type { Config } from "../../config.js";
import type { Intake } from "../../bot/intake.js";
import type { Logger } from "../../log.js";
import { registerSlackListeners } from "./slack-listeners.js";

export interface SlackBot {
  /** "socket" (SLACK_APP_TOKEN set) or "http" (events POSTed to PORT at /slack/events). */
  mode: "socket" | "http";
  stop(): Promise<void>;
}

/**
 * Starts the Slack side of the bot. Socket Mode when SLACK_APP_TOKEN is set (no public URL
 * needed), otherwise Bolt's HTTP receiver, which verifies every request's signature.
 */
export async function startSlackBot(config: Config, intake: Intake, log: Logger): Promise<SlackBot> {
  const slackLog = log.child({ platform: "slack" });
  const clientOptions = config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {};
  const mode = config.SLACK_APP_TOKEN ? "socket" : "http";
  const app = new App({
    token: config.SLACK_BOT_TOKEN,
    clientOptions,
    logLevel: LogLevel.WARN,
    ...(mode === "socket" ? { socketMode: true, appToken: config.SLACK_APP_TOKEN } : { signingSecret: config.SLACK_SIGNING_SECRET }),
  });
  registerSlackListeners(app, {
    intake,
    log: slackLog,
    rules: { workspaces: [], channels: config.SLACK_ALLOWED_CHANNELS, users: config.SLACK_ALLOWED_USERS, allowDms: config.SLACK_ALLOW_DMS },
  });
  await app.start(config.PORT);
  slackLog.info({ mode, port: mode === "http" ? config.PORT : undefined }, "slack connected");
  return { mode, stop: () => app.stop().then(() => undefined) };
}
