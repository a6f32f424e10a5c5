import { Events } from "discord.js";
import type { DiscordConfig } from "../../config.js";
import type { AccessRules } from "../../core/access-policy.js";
import type { BotDeps } from "../../bot/bot-deps.js";
import type { Logger } from "../../log.js";
import { createDiscordClient, inviteUrl } from "./discord-client.js";
import { registerDiscordListeners } from "./discord-listeners.js";

/** DISCORD_ALLOWED_GUILDS, DISCORD_ALLOWED_CHANNELS, DISCORD_ALLOWED_USERS, DISCORD_ALLOW_DMS as access rules. */
export function discordAccessRules(config: DiscordConfig): AccessRules {
  return { workspaces: config.DISCORD_ALLOWED_GUILDS, channels: config.DISCORD_ALLOWED_CHANNELS, users: config.DISCORD_ALLOWED_USERS, allowDms: config.DISCORD_ALLOW_DMS };
}

/** Connects to Discord's gateway and feeds messages and commands to the intake, and rating clicks to the feedback store. */
export async function startDiscordBot(config: DiscordConfig, { intake, feedback }: BotDeps, log: Logger): Promise<{ stop(): Promise<void>; connected(): boolean }> {
  const discordLog = log.child({ platform: "discord" });
  const client = createDiscordClient(config);
  registerDiscordListeners(client, {
    intake,
    feedback,
    log: discordLog,
    rules: discordAccessRules(config),
  });
  client.on(Events.Error, (error) => discordLog.error({ err: error }, "discord client error"));
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  // Connected while the gateway session is: discord.js reconnects by itself, and /readyz shows the gaps.
  let gatewayUp = false;
  for (const up of [Events.ClientReady, Events.ShardReady, Events.ShardResume] as const) client.on(up, () => (gatewayUp = true));
  for (const down of [Events.ShardDisconnect, Events.ShardReconnecting, Events.Invalidated] as const) client.on(down, () => (gatewayUp = false));
  await client.login(config.DISCORD_TOKEN);
  await ready;
  discordLog.info({ user: client.user?.tag, invite: inviteUrl(client.application?.id ?? client.user?.id ?? "") }, "discord connected: invite the bot with this URL");
  return { stop: () => client.destroy(), connected: () => gatewayUp };
}
