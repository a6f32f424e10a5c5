import { discordSafeText } from "../../core/mentions.js";
import type { PlatformAdapter } from "../platform-adapter.js";
import { discordAttachments } from "./discord-attachments.js";
import { discordAccessRules, startDiscordBot } from "./discord-bot.js";
import { createDiscordRest } from "./discord-client.js";
import { DiscordDelivery } from "./discord-delivery.js";

/** Discord: the gateway in (discord-bot.ts), REST out. Configured by DISCORD_TOKEN. */
export const discordPlatform: PlatformAdapter<"discord"> = {
  name: "discord",
  configured: (config) => Boolean(config.DISCORD_TOKEN),
  listen: startDiscordBot,
  accessRules: discordAccessRules,
  setup: "DISCORD_TOKEN",
  delivery: (config, { log }) => new DiscordDelivery(createDiscordRest(config), config.DISCORD_MAX_UPLOAD_MB * 1024 * 1024, log.child({ platform: "discord" })),
  attachments: () => discordAttachments(),
  promptFacts: { place: "a Discord thread" },
  mentions: discordSafeText,
};
