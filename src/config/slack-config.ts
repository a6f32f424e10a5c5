import { z } from "zod";
import { boolean, integer, list } from "./config-fields.js";

/** Slack (src/platforms/slack/): `[platforms.slack]` in .env.example. */
export const slackSchema = z.object({
  SLACK_BOT_TOKEN: z.string().startsWith("xoxb-", "a bot token starts with xoxb-").optional(),
  SLACK_APP_TOKEN: z.string().startsWith("xapp-", "an app-level token starts with xapp-").optional(),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_API_URL: z.string().url().optional(),
  /**
   * How many times a Slack Web API call that can't reach Slack (or is rate-limited) is tried again,
   * waiting about twice as long each time from a second: 10 (the SDK's default) is about 30 minutes.
   */
  SLACK_API_RETRIES: integer(10, 0, 10),
  SLACK_ALLOWED_CHANNELS: list(),
  SLACK_ALLOWED_USERS: list(),
  SLACK_ALLOW_DMS: boolean(true),
  PORT: integer(3000, 1, 65535),
});

export type SlackConfig = Readonly<z.infer<typeof slackSchema>>;

/** What Slack needs once one of its variables is set (checked after the section parsed). */
export function slackProblems(config: SlackConfig): string[] {
  const problems: string[] = [];
  if (config.SLACK_BOT_TOKEN && !config.SLACK_APP_TOKEN && !config.SLACK_SIGNING_SECRET) {
    problems.push("  SLACK_SIGNING_SECRET: required for Slack's HTTP events (or set SLACK_APP_TOKEN for Socket Mode)");
  }
  if ((config.SLACK_APP_TOKEN || config.SLACK_SIGNING_SECRET) && !config.SLACK_BOT_TOKEN) {
    problems.push("  SLACK_BOT_TOKEN: required once Slack is configured");
  }
  return problems;
}
