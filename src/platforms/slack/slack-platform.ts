import { WebClient } from "@slack/web-api";
import { slackSafeText } from "../../core/mentions.js";
import type { PlatformAdapter } from "../platform-adapter.js";
import { slackAccessRules, startSlackBot } from "./slack-app.js";
import { slackAttachments } from "./slack-attachments.js";
import { slackClientOptions } from "./slack-client-options.js";
import { SlackDelivery } from "./slack-delivery.js";

/** Slack: Socket Mode or HTTP events in (slack-app.ts), the Web API out. Configured by SLACK_BOT_TOKEN. */
export const slackPlatform: PlatformAdapter<"slack"> = {
  name: "slack",
  configured: (config) => Boolean(config.SLACK_BOT_TOKEN),
  listen: startSlackBot,
  accessRules: slackAccessRules,
  setup: "SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN",
  delivery(config, { log }) {
    const slackLog = log.child({ platform: "slack" });
    return new SlackDelivery(new WebClient(config.SLACK_BOT_TOKEN, slackClientOptions(config, slackLog)), slackLog);
  },
  attachments: (config) => slackAttachments(config.SLACK_BOT_TOKEN ?? "", config.SLACK_API_URL),
  promptFacts: { place: "a Slack thread" },
  mentions: slackSafeText,
};
