import {
  escapeMarkdown,
  Events,
  MessageFlags,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Client,
  type Message,
  type MessageContextMenuCommandInteraction,
  type ModalSubmitInteraction,
  type RepliableInteraction,
} from "discord.js";
import { checkAccess, type AccessRules } from "../../core/access-policy.js";
import { threadKey, type AttachmentRef, type ChatRequestInput, type RequestKind } from "../../core/chat-request.js";
import { discordSafeText } from "../../core/mentions.js";
import { STOP_TOO_LATE, stopRefusal, type Intake } from "../../bot/intake.js";
import { messageCode } from "../../core/markdown/fenced-code.js";
import { scheduleCommand } from "../../bot/text-commands.js";
import type { FeedbackStore } from "../../feedback/feedback-store.js";
import type { Logger } from "../../log.js";
import { COMMAND_KINDS, RUN_CODE_COMMAND, RUN_MODAL_CODE, RUN_MODAL_ID, runModal } from "./discord-commands.js";
import { STOP_PREFIX } from "./discord-delivery.js";
import { FEEDBACK_PREFIX, parseFeedbackId } from "./discord-feedback.js";

export interface DiscordListenerDeps {
  intake: Intake;
  rules: AccessRules;
  log: Logger;
  feedback: FeedbackStore;
}

/** The interactions that become requests: slash commands, the /run box, and "Run code" on a message. */
type RequestInteraction = ChatInputCommandInteraction | ModalSubmitInteraction | MessageContextMenuCommandInteraction;

/** Commands that act on a thread's session: in a server they belong in a thread. */
const THREAD_COMMANDS = new Set<RequestKind>(["reset", "files", "export", "schedule"]);

function threadName(text: string): string {
  const name = text.replace(/\s+/g, " ").trim().slice(0, 90);
  return name || "codebot";
}

function attachmentRefs(attachments: Iterable<{ name: string; size: number; contentType: string | null; url: string }>): AttachmentRef[] {
  return [...attachments].map((file) => ({ name: file.name, size: file.size, mime: file.contentType?.split(";")[0] ?? "application/octet-stream", url: file.url }));
}

/** The channel the access rules judge: a thread's parent, else the channel itself. */
function accessChannel(interaction: RepliableInteraction): { inThread: boolean; parentId: string } {
  const channel = interaction.channel;
  const inThread = channel?.isThread() ?? false;
  return { inThread, parentId: channel?.isThread() ? (channel.parentId ?? interaction.channelId ?? "") : (interaction.channelId ?? "") };
}

/** The text of /schedule (`<when>: <request>`), /schedules (none) and /unschedule (the id); undefined for the other commands. */
function scheduleText(interaction: ChatInputCommandInteraction): string | undefined {
  if (interaction.commandName === "schedule") return `${interaction.options.getString("when") ?? ""}: ${interaction.options.getString("request") ?? ""}`;
  if (interaction.commandName === "unschedule") return interaction.options.getString("id") ?? "";
  return interaction.commandName === "schedules" ? "" : undefined;
}

/**
 * A refusal or an error, to the person alone (ephemeral, flag 64), as Slack does: not allowed,
 * rate-limited, the wrong place, nothing to run. Mentions defused and never parsed.
 */
async function refuse(interaction: RepliableInteraction, text: string): Promise<void> {
  const body = { content: discordSafeText(text), flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } } as const;
  if (interaction.deferred || interaction.replied) await interaction.followUp(body);
  else await interaction.reply(body);
}

/**
 * Discord in: mentions (and replies to the bot) in servers, which open a thread on the message;
 * every DM message; the slash commands (/run without code opens a box for several lines); "Run code"
 * on a message; the Stop and 👍/👎 buttons. Listeners only build requests for the intake; code never
 * runs here. A command is checked (access, rate) before it is acknowledged, so a refusal can be
 * ephemeral; the check is a Redis round trip or two, well inside Discord's three seconds.
 */
export function registerDiscordListeners(client: Client, { intake, rules, log, feedback }: DiscordListenerDeps): void {
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
        // Only the person who asked (or one of ADMIN_USERS) stops the request; anyone else is told, alone.
        const outcome = await intake.stop(interaction.customId.slice(STOP_PREFIX.length), { platform: "discord", userId: interaction.user.id });
        if (outcome.status === "stopping") await interaction.deferUpdate();
        else await refuse(interaction, outcome.status === "refused" ? stopRefusal(escapeMarkdown(outcome.asker)) : STOP_TOO_LATE);
      } else if (interaction.isButton() && interaction.customId.startsWith(FEEDBACK_PREFIX)) {
        await onFeedback(interaction);
      } else if (interaction.isChatInputCommand()) {
        await onCommand(interaction);
      } else if (interaction.isMessageContextMenuCommand() && interaction.commandName === RUN_CODE_COMMAND) {
        await take(interaction, "run", messageCode(interaction.targetMessage.content), []);
      } else if (interaction.isModalSubmit() && interaction.customId === RUN_MODAL_ID) {
        await take(interaction, "run", interaction.fields.getTextInputValue(RUN_MODAL_CODE), []);
      }
    } catch (error) {
      log.error({ err: error, interactionId: interaction.id }, "could not take a Discord interaction");
      if (interaction.isRepliable() && !interaction.replied) await refuse(interaction, "Sorry, I couldn't take that just now: please try again in a moment.").catch(() => undefined);
    }
  });

  async function onMessage(message: Message): Promise<void> {
    const botId = client.user?.id;
    if (message.author.bot || !botId) return;
    const isDm = !message.guildId;
    const addressed = message.mentions.users.has(botId) || message.mentions.repliedUser?.id === botId;
    if (!isDm && !addressed) return;
    const text = message.content.replace(new RegExp(`<@!?${botId}>`, "g"), "").trim();
    // `schedule <when>: <request>`, `schedules`, `unschedule <id>`, `resume <id>`: commands, as in Slack.
    const command = message.attachments.size ? undefined : scheduleCommand(text);
    const inThread = message.channel.isThread();
    const parentId = inThread ? (message.channel.parentId ?? message.channelId) : message.channelId;
    const request: ChatRequestInput = {
      eventId: `discord:${message.id}`,
      ...(command ? { kind: command.kind } : {}),
      user: { id: message.author.id, name: message.member?.displayName ?? message.author.globalName ?? message.author.username },
      conversation: { platform: "discord", workspaceId: message.guildId ?? undefined, channelId: message.channelId, threadId: message.channelId },
      text: command ? command.text : text,
      attachments: attachmentRefs(message.attachments.values()),
      messageId: message.id,
      receivedAt: Date.now(),
    };
    const refusal = await intake.check(request, rules, isDm, parentId);
    if (refusal?.status === "refused") await message.reply({ content: discordSafeText(refusal.message), allowedMentions: { repliedUser: false, parse: [] } });
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
    const code = interaction.options.getString("code");
    if (kind === "run" && !code?.trim()) {
      // No code given: the box for several lines. Its submission is checked again, in full.
      const access = checkAccess(rules, { workspaceId: interaction.guildId ?? undefined, channelId: accessChannel(interaction).parentId, userId: interaction.user.id, isDm: !interaction.guildId });
      if (!access.allowed) return refuse(interaction, access.reason);
      await interaction.showModal(runModal());
      return;
    }
    const zip = interaction.options.getBoolean("zip") ? "zip" : "";
    const text = kind === "message" ? (interaction.options.getString("question") ?? "") : kind === "run" ? (code ?? "") : kind === "reset" ? "" : scheduleText(interaction) ?? zip;
    const file = interaction.options.getAttachment("file");
    await take(interaction, kind, text, file ? attachmentRefs([file]) : []);
  }

  /** An interaction as a request: checked, acknowledged (status "On it…"), given a thread when it needs one, queued. */
  async function take(interaction: RequestInteraction, kind: RequestKind, text: string, attachments: AttachmentRef[]): Promise<void> {
    const { inThread, parentId } = accessChannel(interaction);
    const isDm = !interaction.guildId;
    const channelId = interaction.channelId ?? "";
    if (!isDm && !inThread && THREAD_COMMANDS.has(kind)) {
      return refuse(interaction, `/${kind} acts on a thread's session: use it inside the thread (start one by mentioning me, or with /ask).`);
    }
    if (kind === "run" && !text.trim()) return refuse(interaction, "There's no code to run there.");
    const request: ChatRequestInput = {
      eventId: `discord:${interaction.id}`,
      kind,
      user: { id: interaction.user.id, name: interaction.member && "displayName" in interaction.member ? interaction.member.displayName : interaction.user.globalName ?? interaction.user.username },
      conversation: { platform: "discord", workspaceId: interaction.guildId ?? undefined, channelId, threadId: channelId },
      text,
      attachments,
      receivedAt: Date.now(),
    };
    const refusal = await intake.check(request, rules, isDm, parentId);
    if (refusal) return refuse(interaction, refusal.status === "refused" ? refusal.message : "Already on it.");
    await interaction.deferReply();
    const status = await interaction.editReply({ content: "💭 On it…" });
    if (interaction.guildId && !inThread && (kind === "message" || kind === "run")) {
      const thread = await status.startThread({ name: threadName(kind === "run" ? "run" : text) });
      request.conversation = { ...request.conversation, channelId: thread.id, threadId: thread.id };
    } else {
      request.replyContext = { statusMessageId: status.id };
    }
    await intake.enqueue(request);
  }

  /** A 👍/👎 under an answer: recorded for the thread it is in (one rating per person per answer), thanked ephemerally. */
  async function onFeedback(interaction: ButtonInteraction): Promise<void> {
    const click = parseFeedbackId(interaction.customId);
    if (!click) return;
    const isDm = !interaction.guildId;
    const access = checkAccess(rules, { workspaceId: interaction.guildId ?? undefined, channelId: accessChannel(interaction).parentId, userId: interaction.user.id, isDm });
    if (!access.allowed) return refuse(interaction, access.reason);
    const key = threadKey({ platform: "discord", workspaceId: interaction.guildId ?? undefined, channelId: interaction.channelId, threadId: interaction.channelId });
    await feedback.record({ threadKey: key, eventId: click.eventId, userId: interaction.user.id, rating: click.rating, modelHash: click.modelHash, steps: click.steps, at: Date.now() });
    log.info({ requestId: click.eventId, user: interaction.user.id, rating: click.rating }, "feedback recorded");
    await interaction.reply({ content: click.rating === "up" ? "Thanks for the feedback!" : "Thanks for the feedback: it helps make the answers better.", flags: MessageFlags.Ephemeral });
  }
}
