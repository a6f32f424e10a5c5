/**
 * The streaming part of `npm run bench:pipeline`: how soon an answer's first words show on Slack and
 * Discord after the model's first token, and how many platform calls a streamed answer of 2,000
 * characters makes. The baseline, measured in the same run, is the same answer not streamed
 * (OPENAI_STREAM=false): its words show only once the model has finished.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { loadConfig } from "../src/config.js";
import type { ChatRequestInput } from "../src/core/chat-request.js";
import { createLogger } from "../src/log.js";
import { TurnQueue } from "../src/queue/turn-queue.js";
import { startWorkerRuntime } from "../src/app/worker.js";
import type { ChatCompletionsStandIn } from "../test/support/stand-ins/chat-completions-stand-in.js";
import { startDiscordStandIn, type DiscordStandIn, type RecordedRestCall } from "../test/support/stand-ins/discord-stand-in.js";
import { startSlackStandIn, type SlackCall, type SlackStandIn } from "../test/support/stand-ins/slack-web-api-stand-in.js";
import { median, percentile, row } from "./stats.js";

const ANSWER_CHARS = 2000;
/** The stand-in model writes 8 characters per delta, one delta per this many ms (≈ 400 characters/s). */
const DELTA_MS = 20;
/** What the issue asks: at most one call per message per 500 ms. */
const MIN_INTERVAL_MS = 500;

interface Sample {
  /** ms from the model's first token to the first of the answer's words on the platform. */
  firstVisibleMs: number;
  /** Platform calls that showed or changed the answer's messages. */
  calls: number;
  /** The shortest gap between two calls on one message (ms). */
  minGapMs: number;
}

function answerText(seed: string): string {
  const words = `Revenue grew in every region; the north led with 40 units while the south trailed at 5. ${seed} `;
  return words.repeat(Math.ceil(ANSWER_CHARS / words.length)).slice(0, ANSWER_CHARS);
}

function minGap(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let gap = Number.POSITIVE_INFINITY;
  for (let i = 1; i < sorted.length; i++) gap = Math.min(gap, (sorted[i] ?? 0) - (sorted[i - 1] ?? 0));
  return gap;
}

async function until<T>(find: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() - started > timeoutMs) throw new Error("timed out waiting for the answer");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** One Slack answer: enqueued as a mention in a channel thread; measured on the stand-in's calls. */
async function slackTurn(queue: TurnQueue, llm: ChatCompletionsStandIn, slack: SlackStandIn, marker: string): Promise<Sample> {
  const threadTs = `${Math.floor(Date.now() / 1000)}.${randomBytes(3).readUIntBE(0, 3)}`;
  const text = answerText(marker);
  llm.script({ content: text, chunkDelayMs: DELTA_MS });
  const before = llm.requests.length;
  const request: ChatRequestInput = {
    eventId: `slack:bench:${randomUUID()}`,
    user: { id: "U0BENCH001", name: "bench" },
    conversation: { platform: "slack", workspaceId: slack.teamId, channelId: "C0BENCH001", threadId: threadTs },
    text: "summarise",
    replyContext: { threadTs },
    receivedAt: Date.now(),
  };
  await queue.enqueue(request);
  // The request's messages: its status message (posted in the thread) and its streamed answer.
  const status = await until(() => slack.calls.find((call) => call.method === "chat.postMessage" && call.args.thread_ts === threadTs)?.response?.ts as string | undefined);
  const stream = () => slack.streams.find((candidate) => candidate.threadTs === threadTs);
  const answered = (call: SlackCall) => call.method === "chat.update" && call.args.ts === status && !JSON.stringify(call.args.blocks ?? []).includes("codebot_stop");
  await until(() => (stream()?.stopped ? true : slack.calls.find(answered)));
  const mine = (call: SlackCall) =>
    ["chat.startStream", "chat.appendStream", "chat.stopStream", "chat.update", "chat.postMessage", "chat.delete"].includes(call.method) &&
    (call.args.thread_ts === threadTs || call.args.ts === status || (stream() !== undefined && call.args.ts === stream()?.ts));
  const answerCalls = slack.calls.filter(mine);
  const shows = (call: SlackCall) => /Revenue/.test(JSON.stringify([call.args.chunks ?? "", call.args.markdown_text ?? "", call.args.blocks ?? ""]));
  const firstToken = llm.requests[before]?.firstContentAt ?? Number.NaN;
  const visible = answerCalls.find(shows);
  const byMessage = new Map<string, number[]>();
  for (const call of answerCalls) {
    const ts = String(call.args.ts ?? call.response?.ts ?? "");
    byMessage.set(ts, [...(byMessage.get(ts) ?? []), call.at]);
  }
  return { firstVisibleMs: (visible?.at ?? Number.NaN) - firstToken, calls: answerCalls.length, minGapMs: Math.min(...[...byMessage.values()].map(minGap)) };
}

/** One Discord answer: the status message is edited as the answer is written. */
async function discordTurn(queue: TurnQueue, llm: ChatCompletionsStandIn, discord: DiscordStandIn, marker: string): Promise<Sample> {
  const text = answerText(marker);
  llm.script({ content: text, chunkDelayMs: DELTA_MS });
  const before = llm.requests.length;
  const channel = discord.channelId;
  const callsBefore = discord.calls.length;
  await queue.enqueue({
    eventId: `discord:bench:${randomUUID()}`,
    user: { id: "400000000000000001", name: "bench" },
    conversation: { platform: "discord", workspaceId: discord.guildId, channelId: channel, threadId: channel },
    text: "summarise",
    receivedAt: Date.now(),
  });
  const mine = () => discord.calls.slice(callsBefore).filter((call) => call.path.startsWith(`/channels/${channel}/messages`) && call.method !== "GET");
  const done = (call: RecordedRestCall) => String(call.body?.content ?? "").includes(marker) && !JSON.stringify(call.body?.components ?? []).includes("codebot_stop");
  await until(() => mine().find(done));
  const firstToken = llm.requests[before]?.firstContentAt ?? Number.NaN;
  const calls = mine();
  const visible = calls.find((call) => /Revenue/.test(String(call.body?.content ?? "")));
  const byMessage = new Map<string, number[]>();
  for (const call of calls) byMessage.set(call.path, [...(byMessage.get(call.path) ?? []), call.at]);
  const edits = [...byMessage.entries()].filter(([path]) => /messages\/\d+$/.test(path)).map(([, times]) => times);
  return { firstVisibleMs: (visible?.at ?? Number.NaN) - firstToken, calls: calls.length, minGapMs: Math.min(...edits.map(minGap)) };
}

export interface StreamingBenchOptions {
  redisUrl: string;
  redis: Redis;
  llm: ChatCompletionsStandIn;
  runs: number;
}

/** Runs the streaming comparison (streamed vs not, Slack and Discord); prints its rows. */
export async function streamingBench({ redisUrl, redis, llm, runs }: StreamingBenchOptions): Promise<void> {
  const slack = await startSlackStandIn();
  const discord = await startDiscordStandIn();
  const log = createLogger(process.env.LOG_LEVEL ?? "warn");
  const results: Record<string, Sample[]> = {};
  try {
    for (const stream of [true, false]) {
      const prefix = `benchs${randomBytes(3).toString("hex")}`;
      const config = loadConfig({
        ...process.env,
        METRICS_PORT: process.env.METRICS_PORT ?? "0", // in-process workers: no endpoint to fight over
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        SANDBOX_NAMESPACE: `bench-${randomBytes(3).toString("hex")}`,
        SANDBOX_POOL_SIZE: "0",
        OPENAI_BASE_URL: llm.baseURL,
        OPENAI_API_KEY: "sk-bench",
        OPENAI_STREAM: String(stream),
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_API_URL: slack.apiUrl,
        SLACK_SIGNING_SECRET: "bench-signing-secret",
        DISCORD_TOKEN: discord.token,
        DISCORD_API_URL: discord.apiUrl,
        USER_RATE_LIMIT_PER_MINUTE: "10000",
      });
      const runtime = await startWorkerRuntime(config, log);
      const queue = new TurnQueue(redis, prefix, 3);
      try {
        const label = stream ? "streamed" : "not streamed (baseline)";
        results[`slack ${label}`] = [];
        results[`discord ${label}`] = [];
        for (let i = 0; i < runs; i++) {
          results[`slack ${label}`]?.push(await slackTurn(queue, llm, slack, `s${stream}${i}`));
          results[`discord ${label}`]?.push(await discordTurn(queue, llm, discord, `d${stream}${i}`));
        }
      } finally {
        await queue.close();
        await runtime.close();
        await runtime.sandboxes.destroyAll();
      }
    }
  } finally {
    await slack.close();
    await discord.close();
  }
  console.log(`3. a ${ANSWER_CHARS}-character answer, the model writing ~${Math.round((8 * 1000) / DELTA_MS)} characters/s (${runs} runs each)`);
  for (const platform of ["slack", "discord"]) {
    const streamed = results[`${platform} streamed`] ?? [];
    const baseline = results[`${platform} not streamed (baseline)`] ?? [];
    const first = streamed.map((sample) => sample.firstVisibleMs);
    const base = baseline.map((sample) => sample.firstVisibleMs);
    console.log(row(`   ${platform}: model's first token -> first words visible, streamed`, first));
    console.log(row(`   ${platform}: the same, not streamed (baseline)`, base));
    console.log(`   ${platform}: streamed / baseline median: ${(median(first) / median(base)).toFixed(3)}; target median <= 200 ms: ${median(first) <= 200 ? "PASS" : "MISS"}`);
    const calls = streamed.map((sample) => sample.calls);
    const gaps = streamed.map((sample) => sample.minGapMs);
    console.log(`   ${platform}: platform calls per streamed answer median ${median(calls)}, max ${Math.max(...calls)} (not streamed: ${median(baseline.map((sample) => sample.calls))})`);
    console.log(`   ${platform}: shortest gap between two calls on one message ${Math.min(...gaps).toFixed(0)} ms (p5 of per-answer minima ${percentile(gaps, 5).toFixed(0)} ms); target >= ${MIN_INTERVAL_MS} ms: ${Math.min(...gaps) >= MIN_INTERVAL_MS ? "PASS" : "MISS"}`);
  }
}
