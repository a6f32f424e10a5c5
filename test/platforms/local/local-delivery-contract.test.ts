import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { chatRequestSchema, type ChatRequest } from "../../../src/core/chat-request.js";
import { localDelivery } from "../../../src/platforms/local/local-delivery.js";
import { localReplySchema, type LocalReply } from "../../../src/platforms/local/local-replies.js";
import { keys } from "../../../src/redis/redis-keys.js";
import type { Delivery } from "../../../src/core/reply.js";
import { startRedis, type TestRedis } from "../../support/redis-server.js";
import { deliveryContract } from "../delivery-contract.js";

/**
 * The local chat's delivery: replies on a Redis stream per request, read back as `codebot ask`
 * and `codebot chat` read them (XRANGE, each entry checked by the same schema). A terminal previews
 * no link and pings nobody: those checks hold trivially here, and the text must still read as written.
 */
let server: TestRedis;
/** The worker's connection, which `refuse` cuts (no offline queue: a command fails at once, as on a lost Redis). */
let redis: Redis;
let reader: Redis;
let delivery: Delivery;
const k = keys(`local-contract-${randomBytes(3).toString("hex")}`);

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { enableOfflineQueue: false, lazyConnect: true });
  await redis.connect();
  reader = new Redis(server.url);
  delivery = localDelivery(redis, k);
});

afterAll(async () => {
  redis.disconnect();
  await reader.quit();
  await server.stop();
});

let counter = 0;
function request(): ChatRequest {
  const id = `${Date.now()}-${++counter}`;
  return chatRequestSchema.parse({
    eventId: `local:${id}`,
    user: { id: "me", name: "me" },
    conversation: { platform: "local", channelId: "terminal", threadId: id },
    text: "hi",
    receivedAt: Date.now(),
  });
}

async function replies(req: ChatRequest): Promise<LocalReply[]> {
  const entries = await reader.xrange(k.localReplies(req.eventId), "-", "+");
  return entries.map(([, fields]) => localReplySchema.parse(JSON.parse(fields[fields.indexOf("reply") + 1]!)));
}

const texts = (reply: LocalReply): string[] => {
  switch (reply.type) {
    case "status":
      return [reply.text];
    case "step":
      return [reply.code ?? "", reply.outcome ?? ""].filter(Boolean);
    case "answer":
      return [reply.markdown, ...reply.skippedFiles];
    case "fail":
      return [reply.message];
  }
};

deliveryContract("local chat (a Redis stream the CLI reads)", () => ({
  delivery,
  request,
  sent: async (req) => (await replies(req)).flatMap(texts),
  // What stays on the terminal once the spinner's status lines are gone: the answer, or the failure.
  shown: async (req) => (await replies(req)).filter((reply) => reply.type === "answer" || reply.type === "fail").flatMap(texts),
  files: async (req) =>
    (await replies(req)).flatMap((reply) => (reply.type === "answer" ? [...reply.images, ...reply.files, ...reply.tables] : [])).map((file) => ({ name: file.name, bytes: Buffer.from(file.base64, "base64") })),
  previewProblems: async () => [],
  limitProblems: async () => [],
  pings: () => false,
  platformMentions: "<@U0ALICE001> <!channel> <@123456789012345678>",
  progress: "steps",
  refuse: async (on) => {
    if (on) await new Promise((resolve) => redis.once("end", resolve).disconnect());
    else await redis.connect();
  },
}));
