import { MessageFlags, REST } from "discord.js";
import { afterAll, beforeAll } from "vitest";
import { chatRequestSchema, type ChatRequest } from "../../../src/core/chat-request.js";
import { createLogger } from "../../../src/log.js";
import { DiscordDelivery } from "../../../src/platforms/discord/discord-delivery.js";
import { DISCORD_MESSAGE_LIMIT } from "../../../src/platforms/discord/discord-text.js";
import { deliveryContract } from "../delivery-contract.js";
import { snowflake } from "../../support/stand-ins/discord-payloads.js";
import { startDiscordStandIn, type DiscordStandIn, type RecordedRestCall } from "../../support/stand-ins/discord-stand-in.js";

/** Discord's limit of attachments per message. */
const FILES_PER_MESSAGE = 10;

let discord: DiscordStandIn;
let delivery: DiscordDelivery;

beforeAll(async () => {
  discord = await startDiscordStandIn();
  delivery = new DiscordDelivery(new REST({ api: discord.apiUrl, retries: 0 }).setToken(discord.token), 8 * 1024 * 1024, createLogger("silent"));
});

afterAll(async () => {
  await discord?.close();
});

/** A request in a thread of its own. */
function request(): ChatRequest {
  const thread = snowflake();
  return chatRequestSchema.parse({
    eventId: `discord:${thread}`,
    user: { id: "42", name: "alice" },
    conversation: { platform: "discord", workspaceId: discord.guildId, channelId: thread, threadId: thread },
    text: "hi",
    receivedAt: Date.now(),
  });
}

/** The bot's accepted posts and edits in the request's channel, in order. */
const messageCalls = (req: ChatRequest): RecordedRestCall[] =>
  discord.calls.filter((call) => call.path.startsWith(`/channels/${req.conversation.channelId}/messages`) && call.status > 0 && call.status < 300);

const strings = (value: unknown): string[] =>
  typeof value === "string" ? [value] : Array.isArray(value) ? value.flatMap(strings) : value && typeof value === "object" ? Object.values(value).flatMap(strings) : [];

deliveryContract("Discord (discord.js REST on the Discord stand-in)", () => ({
  delivery,
  request,
  sent: async (req) => messageCalls(req).flatMap((call) => strings([call.body?.content, call.body?.components, call.body?.embeds])),
  shown: async (req) => {
    const latest = new Map<string, string>();
    for (const call of messageCalls(req)) {
      const id = call.method === "POST" ? String((call.response as { id?: string } | undefined)?.id) : call.path.split("/").pop()!;
      if (call.method === "DELETE") latest.delete(id);
      else if (call.body?.content !== undefined) latest.set(id, String(call.body.content));
    }
    return [...latest.values()];
  },
  files: async (req) => messageCalls(req).flatMap((call) => call.files.map((file) => ({ name: file.name, bytes: file.bytes }))),
  // Every message and edit suppresses embeds, and pings nobody whatever its text says.
  previewProblems: async (req) =>
    messageCalls(req)
      .filter((call) => call.method !== "DELETE" && (call.body?.flags !== MessageFlags.SuppressEmbeds || JSON.stringify(call.body?.allowed_mentions) !== JSON.stringify({ parse: [] })))
      .map((call) => `${call.method} ${call.path}: flags=${String(call.body?.flags)} allowed_mentions=${JSON.stringify(call.body?.allowed_mentions)}`),
  limitProblems: async (req) =>
    messageCalls(req).flatMap((call) => [
      ...(String(call.body?.content ?? "").length > DISCORD_MESSAGE_LIMIT ? [`${call.method} content of ${String(call.body?.content).length} characters`] : []),
      ...(call.files.length > FILES_PER_MESSAGE ? [`${call.method} with ${call.files.length} files`] : []),
    ]),
  pings: (text) => /@(everyone|here)/.test(text) || /<@[!&]?\d/.test(text),
  platformMentions: "<@123456789012345678> <@!123456789012345678> <@&123456789012345678> hi@everyone",
  progress: "text",
  refuse: async (on) => {
    for (const method of ["POST", "PATCH"]) discord.refuseAlways(method, on ? /^\/channels\/\d+\/messages/ : undefined);
  },
}));
