import { Events, type ChatInputCommandInteraction, type Client, type Message } from "discord.js";
import type { AccessRules } from "../../core/access-policy.js";
import type { AttachmentRef, ChatRequestInput } from "../../core/chat-request.js";
import type { Intake } from "../../bot/intake.js";
import type { Logger } from "../../log.js";
import { COMMAND_KINDS } from "./discord-commands.js";
import { STOP_PREFIX } from "./discord-delivery.js";

export interface DiscordListenerDeps {
  intake: Intake;
  rules: AccessRules;
  log: Logger;
}

function threadName(text: string): string {
  const name = text.replace(/\s+/g, " ").trim().slice(0, 90);
  return name || "codebot";
}

function attachmentRefs(attachments: Iterable<{ name: string; size: number; contentType: string | null; url: string }>): AttachmentRef[] {
  return [...attachments].map((file) => ({ name: file.name, size: file.size, mime: file.contentType?.split(";")[0] ?? "application/octet-stream", url: file.url }));
}

/**
 * Discord in: mentions (and replies to the bot) in servers, which open a thread on the message;
 * every DM message; the slash commands; the Stop button. Listeners only build requests for the
 * intake; code never runs here.
 */
export function registerDiscordListeners(client: Client, { intake, rules, log }: DiscordListenerDeps): void {
  client.on(Events.MessageCreate, async (message) => {
    try {
      await onMessage(message);
    } catch (error) {
      log.error({ err: error, messageId: message.id }, "could not take a Discord message");
    }
  });

  client.on(Events.InteractionCreate, async (interaction) => {
    try {
      if (interaction.isButton() && interaction.customId.startsWith(STOP_PREFIX)) {
        await interaction.deferUpdate();
        const eventId = interaction.customId.slice(STOP_PREFIX.length);
        log.info({ requestId: eventId, user: interaction.user.id }, "stop requested");
        await intake.cancel(eventId);
      } else if (interaction.isChatInputCommand()) {
        await onCommand(interaction);
      }
    } catch (error) {
      log.error({ err: error, interactionId: interaction.id }, "could not take a Discord interaction");
    }
  });

  async function onMessage(message: Message): Promise<void> {
    const botId = client.user?.id;
    if (message.author.bot || !botId) return;
    const isDm = !message.guildId;
    const addressed = message.mentions.users.has(botId) || message.mentions.repliedUser?.id === botId;
    if (!isDm && !addressed) return;
    const text = message.content.replace(new RegExp(`<@!?${botId}>`, "g"), "").trim();
    const inThread = message.channel.isThread();
    const parentId = inThread ? (message.channel.parentId ?? message.channelId) : message.channelId;
    const request: ChatRequestInput = {
      eventId: `discord:${message.id}`,
      user: { id: message.author.id, name: message.member?.displayName ?? message.author.globalName ?? message.author.username },
      conversation: { platform: "discord", workspaceId: message.guildId ?? undefined, channelId: message.channelId, threadId: message.channelId },
      text,
      attachments: attachmentRefs(message.attachments.values()),
      messageId: message.id,
      receivedAt: Date.now(),
    };
    const refusal = await intake.check(request, rules, isDm, parentId);
    if (refusal?.status === "refused") await message.reply({ content: refusal.message, allowedMentions: { repliedUser: false } });
    if (refusal) return;
    if (!isDm && !inThread) {
      const thread = message.thread ?? (await message.startThread({ name: threadName(text) }));
      request.conversation = { ...request.conversation, channelId: thread.id, threadId: thread.id };
    }
    if ((await intake.enqueue(request)).status === "queued") await message.react("👀").catch(() => undefined);
  }

  async function onCommand(interaction: ChatInputCommandInteraction): Promise<void> {
    const kind = COMMAND_KINDS[interaction.commandName];
    if (!kind) return;
    await interaction.deferReply();
    const text = interaction.options.getString("question") ?? interaction.options.getString("code") ?? "";
    const file = interaction.options.getAttachment("file");
    const channel = interaction.channel;
    const inThread = channel?.isThread() ?? false;
    const parentId = channel?.isThread() ? (channel.parentId ?? interaction.channelId) : interaction.channelId;
    const request: ChatRequestInput = {
      eventId: `discord:${interaction.id}`,
      kind,
      user: { id: interaction.user.id, name: interaction.member && "displayName" in interaction.member ? interaction.member.displayName : interaction.user.globalName ?? interaction.user.username },
      conversation: { platform: "discord", workspaceId: interaction.guildId ?? undefined, channelId: interaction.channelId, threadId: interaction.channelId },
      text,
      attachments: file ? attachmentRefs([file]) : [],
      receivedAt: Date.now(),
    };
    const refusal = await intake.check(request, rules, !interaction.guildId, parentId);
    if (refusal) {
      await interaction.editReply({ content: refusal.status === "refused" ? refusal.message : "Already on it." });
      return;
    }
    const status = await interaction.editReply({ content: "💭 On it…" });
    if (interaction.guildId && !inThread && (kind === "message" || kind === "run")) {
      const thread = await status.startThread({ name: threadName(kind === "run" ? "run" : text) });
      request.conversation = { ...request.conversation, channelId: thread.id, threadId: thread.id };
    } else {
      request.replyContext = { statusMessageId: status.id };
    }
    await intake.enqueue(request);
  }
}
