import { Client, GatewayIntentBits, OAuth2Scopes, Partials, PermissionFlagsBits, REST } from "discord.js";
import type { DiscordConfig } from "../../config.js";

/** discord.js's REST client, pointed at DISCORD_API_URL when set (a REST proxy). */
export function createDiscordRest(config: DiscordConfig): REST {
  return new REST(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}).setToken(config.DISCORD_TOKEN ?? "");
}

/**
 * The gateway client with only the intents needed. Message Content is privileged: without it,
 * mentions, replies to the bot, DMs and slash commands still carry their text.
 */
export function createDiscordClient(config: DiscordConfig): Client {
  const intents = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages];
  if (config.DISCORD_MESSAGE_CONTENT) intents.push(GatewayIntentBits.MessageContent);
  return new Client({ intents, partials: [Partials.Channel, Partials.Message], ...(config.DISCORD_API_URL ? { rest: { api: config.DISCORD_API_URL } } : {}) });
}

/** What the bot needs in a server: read, answer, open threads, attach files, react. */
export const INVITE_PERMISSIONS = [
  PermissionFlagsBits.ViewChannel,
  PermissionFlagsBits.SendMessages,
  PermissionFlagsBits.SendMessagesInThreads,
  PermissionFlagsBits.CreatePublicThreads,
  PermissionFlagsBits.AttachFiles,
  PermissionFlagsBits.ReadMessageHistory,
  PermissionFlagsBits.AddReactions,
];

/** The OAuth2 URL a server admin opens to add the bot with exactly these permissions. */
export function inviteUrl(applicationId: string): string {
  const permissions = INVITE_PERMISSIONS.reduce((bits, flag) => bits | flag, 0n);
  const scopes = [OAuth2Scopes.Bot, OAuth2Scopes.ApplicationsCommands].join(" ");
  return `https://discord.com/oauth2/authorize?${new URLSearchParams({ client_id: applicationId, scope: scopes, permissions: permissions.toString() })}`;
}
