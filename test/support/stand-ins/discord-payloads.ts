/** Gateway payloads in Discord's documented shapes (API v10), for the stand-in and the tests. */
let counter = BigInt(Date.now() - 1420070400000) << 22n;

/** Increasing snowflake-like ids. */
export function snowflake(): string {
  counter += 1n << 12n;
  return counter.toString();
}

export interface DiscordUser {
  id: string;
  username: string;
  discriminator: string;
  global_name: string | null;
  avatar: null;
  bot?: boolean;
}

export function user(username: string, id = snowflake()): DiscordUser {
  return { id, username, discriminator: "0", global_name: username[0]!.toUpperCase() + username.slice(1), avatar: null };
}

export function botUser(): DiscordUser {
  return { ...user("codebot"), global_name: null, bot: true };
}

const memberOf = (someone: DiscordUser) => ({ user: someone, roles: [], joined_at: new Date(0).toISOString(), deaf: false, mute: false, flags: 0, nick: null, avatar: null, premium_since: null, pending: false });

export function guildCreate(guildId: string, channelId: string, bot: DiscordUser): object {
  return {
    id: guildId, name: "Data Team", icon: null, owner_id: bot.id, afk_channel_id: null, afk_timeout: 300, verification_level: 0,
    default_message_notifications: 0, explicit_content_filter: 0, emojis: [], stickers: [], features: [], mfa_level: 0, system_channel_id: null,
    roles: [{ id: guildId, name: "@everyone", permissions: "1071698660929", position: 0, color: 0, hoist: false, managed: false, mentionable: false, flags: 0 }],
    joined_at: new Date(0).toISOString(), large: false, unavailable: false, member_count: 2, members: [memberOf(bot)], voice_states: [], presences: [],
    channels: [{ id: channelId, type: 0, guild_id: guildId, name: "analysis", position: 0, permission_overwrites: [], parent_id: null, nsfw: false, topic: null, last_message_id: null, rate_limit_per_user: 0 }],
    threads: [], stage_instances: [], guild_scheduled_events: [], premium_tier: 0, preferred_locale: "en-US", nsfw_level: 0, premium_progress_bar_enabled: false,
  };
}

export interface AttachmentSpec {
  filename: string;
  size: number;
  url: string;
  contentType: string;
}

/** channel_type: 0 guild text, 1 DM, 11 public thread (sent by Discord with MESSAGE_CREATE). */
export function messageCreate(spec: {
  channelId: string;
  guildId?: string;
  author: DiscordUser;
  content: string;
  mentions?: DiscordUser[];
  attachments?: AttachmentSpec[];
  id?: string;
  channelType?: number;
  /** A reply (type 19) to this message. */
  replyTo?: { id: string; author: DiscordUser; content: string };
}): object {
  const reply = spec.replyTo
    ? {
        type: 19,
        message_reference: { type: 0, message_id: spec.replyTo.id, channel_id: spec.channelId, guild_id: spec.guildId },
        referenced_message: messageCreate({ id: spec.replyTo.id, channelId: spec.channelId, guildId: spec.guildId, author: spec.replyTo.author, content: spec.replyTo.content, channelType: spec.channelType }),
      }
    : {};
  return {
    id: spec.id ?? snowflake(), channel_id: spec.channelId, channel_type: spec.channelType ?? (spec.guildId ? 0 : 1), author: spec.author, content: spec.content, timestamp: new Date().toISOString(),
    edited_timestamp: null, tts: false, mention_everyone: false, mentions: (spec.mentions ?? []).map((mentioned) => (spec.guildId ? { ...mentioned, member: memberOf(mentioned) } : mentioned)),
    mention_roles: [], embeds: [], pinned: false, type: 0, flags: 0, components: [], nonce: snowflake(),
    attachments: (spec.attachments ?? []).map((file) => ({ id: snowflake(), filename: file.filename, size: file.size, url: file.url, proxy_url: file.url, content_type: file.contentType })),
    ...(spec.guildId ? { guild_id: spec.guildId, member: memberOf(spec.author) } : {}),
    ...reply,
  };
}

export function chatInputInteraction(spec: {
  applicationId: string;
  guildId: string;
  channelId: string;
  user: DiscordUser;
  name: string;
  /** Options as Discord sends them: type 3 string, 5 boolean, 11 attachment (see `file`). */
  options?: Array<{ name: string; type: number; value: string | boolean }>;
  parentId?: string;
  /** An attachment option's file (type 11), resolved as Discord sends it. */
  file?: AttachmentSpec;
}): object {
  const fileId = snowflake();
  const options = [...(spec.options ?? []), ...(spec.file ? [{ name: "file", type: 11, value: fileId }] : [])];
  const resolved = spec.file
    ? { attachments: { [fileId]: { id: fileId, filename: spec.file.filename, size: spec.file.size, url: spec.file.url, proxy_url: spec.file.url, content_type: spec.file.contentType, ephemeral: true } } }
    : undefined;
  return {
    id: snowflake(), application_id: spec.applicationId, type: 2, token: `interaction-token-${snowflake()}`, version: 1,
    data: { id: snowflake(), name: spec.name, type: 1, options, ...(resolved ? { resolved } : {}) },
    guild_id: spec.guildId, channel_id: spec.channelId,
    channel: spec.parentId
      ? { id: spec.channelId, type: 11, guild_id: spec.guildId, name: "thread", parent_id: spec.parentId, flags: 0, thread_metadata: { archived: false, auto_archive_duration: 1440, archive_timestamp: new Date().toISOString(), locked: false } }
      : { id: spec.channelId, type: 0, guild_id: spec.guildId, name: "analysis", position: 0, permission_overwrites: [], parent_id: null, nsfw: false, flags: 0 },
    member: { ...memberOf(spec.user), permissions: "1071698660929" }, app_permissions: "1071698660929", locale: "en-US", guild_locale: "en-US",
    entitlements: [], authorizing_integration_owners: { "0": spec.guildId }, context: 0, attachment_size_limit: 10485760,
  };
}

export function buttonInteraction(spec: { applicationId: string; guildId: string; channelId: string; user: DiscordUser; customId: string; message: object }): object {
  return {
    id: snowflake(), application_id: spec.applicationId, type: 3, token: `interaction-token-${snowflake()}`, version: 1,
    data: { custom_id: spec.customId, component_type: 2 }, message: spec.message, guild_id: spec.guildId, channel_id: spec.channelId,
    channel: { id: spec.channelId, type: 11, guild_id: spec.guildId, name: "thread", parent_id: null, flags: 0 },
    member: { ...memberOf(spec.user), permissions: "1071698660929" }, app_permissions: "1071698660929", locale: "en-US", guild_locale: "en-US",
    entitlements: [], authorizing_integration_owners: { "0": spec.guildId }, context: 0,
  };
}

/** Where an interaction happens: a guild text channel, or a thread of one (parentId set). */
interface InteractionPlace {
  applicationId: string;
  guildId: string;
  channelId: string;
  user: DiscordUser;
  parentId?: string;
}

/** The fields every guild interaction carries, for the place it happens in. */
function interactionBase(spec: InteractionPlace, type: number): Record<string, unknown> {
  return {
    id: snowflake(), application_id: spec.applicationId, type, token: `interaction-token-${snowflake()}`, version: 1,
    guild_id: spec.guildId, channel_id: spec.channelId,
    channel: spec.parentId
      ? { id: spec.channelId, type: 11, guild_id: spec.guildId, name: "thread", parent_id: spec.parentId, flags: 0, thread_metadata: { archived: false, auto_archive_duration: 1440, archive_timestamp: new Date().toISOString(), locked: false } }
      : { id: spec.channelId, type: 0, guild_id: spec.guildId, name: "analysis", position: 0, permission_overwrites: [], parent_id: null, nsfw: false, flags: 0 },
    member: { ...memberOf(spec.user), permissions: "1071698660929" }, app_permissions: "1071698660929", locale: "en-US", guild_locale: "en-US",
    entitlements: [], authorizing_integration_owners: { "0": spec.guildId }, context: 0, attachment_size_limit: 10485760,
  };
}

/**
 * A modal's submission (interaction type 5): each text input inside a label (component type 18),
 * as Discord sends it for modals built with labels.
 */
export function modalSubmitInteraction(spec: InteractionPlace & { customId: string; fields: Record<string, string> }): object {
  let componentId = 0;
  const components = Object.entries(spec.fields).map(([customId, value]) => ({ type: 18, id: ++componentId, component: { type: 4, id: ++componentId, custom_id: customId, value } }));
  return { ...interactionBase(spec, 5), data: { custom_id: spec.customId, components } };
}

/** A message context menu command (interaction type 2, command type 3) used on `target`. */
export function messageCommandInteraction(spec: InteractionPlace & { name: string; target: Record<string, unknown> & { id: string } }): object {
  return { ...interactionBase(spec, 2), data: { id: snowflake(), name: spec.name, type: 3, target_id: spec.target.id, resolved: { messages: { [spec.target.id]: spec.target } } } };
}
