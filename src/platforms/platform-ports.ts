import { WebClient } from "@slack/web-api";
import type { Redis } from "ioredis";
import type { Config } from "../config.js";
import type { AttachmentSource } from "../core/attachment-source.js";
import type { Platform } from "../core/chat-request.js";
import type { Delivery } from "../core/reply.js";
import type { Logger } from "../log.js";
import type { Keys } from "../redis/redis-keys.js";
import { BlobStore } from "./local/blob-store.js";
import { localAttachments } from "./local/local-attachments.js";
import { discordAttachments } from "./discord/discord-attachments.js";
import { createDiscordRest } from "./discord/discord-client.js";
import { DiscordDelivery } from "./discord/discord-delivery.js";
import { localDelivery } from "./local/local-delivery.js";
import { slackAttachments } from "./slack/slack-attachments.js";
import { slackClientOptions } from "./slack/slack-client-options.js";
import { SlackDelivery } from "./slack/slack-delivery.js";

export interface PlatformPorts {
  deliveries: Partial<Record<Platform, Delivery>>;
  attachments: Partial<Record<Platform, AttachmentSource>>;
}

/** The delivery and attachment ports a worker has, for each platform configured. */
export function createPlatformPorts(config: Config, redis: Redis, keys: Keys, log: Logger): PlatformPorts {
  const ports: PlatformPorts = {
    deliveries: { local: localDelivery(redis, keys) },
    attachments: { local: localAttachments(new BlobStore(redis, keys)) },
  };
  if (config.SLACK_BOT_TOKEN) {
    const slackLog = log.child({ platform: "slack" });
    const client = new WebClient(config.SLACK_BOT_TOKEN, slackClientOptions(config, slackLog));
    ports.deliveries.slack = new SlackDelivery(client, slackLog);
    ports.attachments.slack = slackAttachments(config.SLACK_BOT_TOKEN, config.SLACK_API_URL);
  }
  if (config.DISCORD_TOKEN) {
    ports.deliveries.discord = new DiscordDelivery(createDiscordRest(config), config.DISCORD_MAX_UPLOAD_MB * 1024 * 1024, log.child({ platform: "discord" }));
    ports.attachments.discord = discordAttachments();
  }
  return ports;
}
