import { describe, expect, test } from "vitest";
import { useDiscordBot } from "../../support/discord-bot-fixture.js";
import { runCli } from "../../support/run-cli.js";
import { buttonInteraction, chatInputInteraction, messageCreate, snowflake, user } from "../../support/stand-ins/discord-payloads.js";
import type { RecordedRestCall } from "../../support/stand-ins/discord-stand-in.js";

const alice = user("alice");
const fixture = useDiscordBot({ SANDBOX_MAX_FILE_MB: "1" });
const { pipeline } = fixture;

const python = (code: string) => ({ toolCalls: [{ name: "python", arguments: { code } }] });
type Body = { messages: Array<{ role: string; content?: unknown }> };
const lastTool = (body: Body) => String([...body.messages].reverse().find((message) => message.role === "tool")?.content ?? "");

function mention(content: string, extra: { attachments?: Array<{ filename: string; size: number; url: string; contentType: string }> } = {}) {
  const id = snowflake();
  fixture.discord.dispatch("MESSAGE_CREATE", messageCreate({ id, channelId: fixture.discord.channelId, guildId: fixture.discord.guildId, author: alice, content: `<@${fixture.discord.bot.id}> ${content}`, mentions: [fixture.discord.bot], ...extra }));
  return id;
}

/** Every message content the bot posted or edited into a channel, in order. */
const contents = (channel: string) =>
  fixture.discord.calls.filter((call) => call.path.startsWith(`/channels/${channel}/messages`) && call.body && call.status < 300).map((call) => String(call.body?.content ?? ""));
const waitForContent = (channel: string, pattern: RegExp) =>
  fixture.discord.waitFor("PATCH", new RegExp(`^/channels/${channel}/messages/\\d+$`), (call) => pattern.test(String(call.body?.content ?? "")));
const hasStop = (call: RecordedRestCall) => JSON.stringify(call.body?.components ?? []).includes("codebot_stop");
/** The answer's edit of the status message: what it ends as (no Stop button), not a draft of the answer being written. */
const waitForAnswer = (channel: string, pattern: RegExp) =>
  fixture.discord.waitFor("PATCH", new RegExp(`^/channels/${channel}/messages/\\d+$`), (call) => !hasStop(call) && pattern.test(String(call.body?.content ?? "")));
/** The 👍/👎 row ending a model's answer. */
function expectFeedbackRow(components: unknown): void {
  const rows = components as Array<{ type: number; components: Array<{ type: number; custom_id: string }> }>;
  expect(rows).toHaveLength(1);
  expect(rows[0]?.components.map((button) => button.type)).toEqual([2, 2]);
  expect(rows[0]?.components.map((button) => button.custom_id.slice(0, 13))).toEqual(["codebot_fb:u:", "codebot_fb:d:"]);
}

describe("Discord, end to end through discord.js, the queue, a worker and a sandbox", () => {
  test("a mention with a CSV opens a thread and gets an answer with a chart attached", async () => {
    const url = fixture.discord.hostFile("orders.csv", "region,value\nnorth,4\nsouth,8\nsouth,10\n");
    pipeline.llm.script(
      python("import pandas as pd, matplotlib.pyplot as plt\ndf = pd.read_csv('/mnt/data/orders.csv')\nm = df.groupby('region').value.mean()\nm.plot.bar(); plt.show()\nprint(m.to_dict())"),
      (body: Body) => ({ content: `Mean value per region: ${lastTool(body).match(/\{.*\}/)?.[0]}` }),
    );
    const messageId = mention("mean value per region? chart please", { attachments: [{ filename: "orders.csv", size: 40, url, contentType: "text/csv; charset=utf-8" }] });
    await fixture.discord.waitFor("POST", new RegExp(`^/channels/${fixture.discord.channelId}/messages/${messageId}/threads$`));
    const thread = messageId; // a thread started from a message takes the message's id
    await fixture.discord.waitFor("PUT", new RegExp(`/messages/${messageId}/reactions/`));
    const answer = await waitForAnswer(thread, /Mean value per region/);
    const content = String(answer.body?.content);
    expect(content).toContain("{'north': 4.0, 'south': 9.0}");
    // A model's answer: one small line per step, the code that ran, and the feedback buttons (no Stop).
    expect(content).toMatch(/^-# ✅ Step 1 · done · .*\(\d+\.\d s\)$/m);
    expect(content).toContain("-# Code that ran:\n```python\nimport pandas as pd");
    expectFeedbackRow(answer.body?.components);
    expect(answer.body?.allowed_mentions).toEqual({ parse: [] });
    // While the model wrote, the status message showed the step (with the Stop button).
    const drafts = fixture.discord.calls.filter((call) => call.method === "PATCH" && call.path === answer.path && hasStop(call));
    expect(drafts.some((call) => /Step 1/.test(String(call.body?.content)))).toBe(true);
    const withFiles = await fixture.discord.waitFor("POST", new RegExp(`^/channels/${thread}/messages$`), (call) => call.files.length > 0);
    expect(withFiles.files[0]?.name).toBe("chart-1.png");
    expect(withFiles.files[0]?.bytes.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    expect(fixture.discord.callsTo("POST", new RegExp(`^/channels/${thread}/typing$`)).length).toBeGreaterThan(0);
  });

  test("the bot prints an invite URL with the permissions it needs", () => {
    const invite = /"invite":"([^"]+)"/.exec(fixture.bot.logs())?.[1] ?? "";
    const url = new URL(invite);
    expect(url.origin + url.pathname).toBe("https://discord.com/oauth2/authorize");
    expect(url.searchParams.get("client_id")).toBe(fixture.discord.applicationId);
    expect(url.searchParams.get("scope")).toBe("bot applications.commands");
    expect(BigInt(url.searchParams.get("permissions") ?? "0") & 0x800n).toBe(0x800n); // Send Messages
  });

  test("codebot discord register puts the eight slash commands and the message command on the application", async () => {
    const run = await runCli(["discord", "register"], { env: pipeline.env });
    expect(run.stdout).toContain(`Registered 8 slash commands and 1 message command for application ${fixture.discord.applicationId}`);
    const put = await fixture.discord.waitFor("PUT", new RegExp(`^/applications/${fixture.discord.applicationId}/commands$`));
    const commands = put.body as unknown as Array<{ name: string; type?: number }>;
    expect(commands.map((command) => command.name)).toEqual(["ask", "run", "reset", "files", "export", "schedule", "schedules", "unschedule", "Run code"]);
    expect(commands.map((command) => command.type ?? 1)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 3]); // chat input ×8, then a message command
  });

  test("/files lists the thread's session files and /reset clears them", async () => {
    const thread = mention("```python\nopen('/mnt/data/kept.txt', 'w').write('x')\nprint('written')\n```");
    await waitForContent(thread, /written/);
    const command = (name: string) =>
      fixture.discord.dispatch("INTERACTION_CREATE", chatInputInteraction({ applicationId: fixture.discord.applicationId, guildId: fixture.discord.guildId, channelId: thread, parentId: fixture.discord.channelId, user: alice, name }));
    command("files");
    await waitForContent(thread, /\/mnt\/data\/kept\.txt/);
    command("reset");
    await waitForContent(thread, /Started afresh/);
    command("files");
    await waitForContent(thread, /No files in this thread's session yet/);
  });

  test("in a thread, replying to the bot (no mention) is a follow-up in the same session", async () => {
    const thread = mention("```python\nshared = 'from the first turn'\nprint('set')\n```");
    const first = await waitForContent(thread, /set/);
    const botMessageId = first.path.split("/").pop()!;
    const reply = snowflake();
    fixture.discord.dispatch("MESSAGE_CREATE", messageCreate({ id: reply, channelId: thread, channelType: 11, guildId: fixture.discord.guildId, author: user("bob"), content: "```python\nprint(shared)\n```", replyTo: { id: botMessageId, author: fixture.discord.bot, content: "set" } }));
    await waitForContent(thread, /from the first turn/);
    expect(fixture.discord.callsTo("POST", new RegExp(`/messages/${reply}/threads$`))).toEqual([]);
  });

  test("a DM works without a mention", async () => {
    const dm = snowflake();
    fixture.discord.dispatch("MESSAGE_CREATE", messageCreate({ channelId: dm, author: alice, content: "```python\nprint('hello from a DM')\n```" }));
    const answer = await waitForContent(dm, /hello from a DM/);
    expect(answer.path.startsWith(`/channels/${dm}/`)).toBe(true);
  });

  test("/run runs code without the model, in a thread on the command's reply", async () => {
    const before = pipeline.llm.requests.length;
    const interaction = chatInputInteraction({ applicationId: fixture.discord.applicationId, guildId: fixture.discord.guildId, channelId: fixture.discord.channelId, user: alice, name: "run", options: [{ name: "code", type: 3, value: "print(sum(range(10)))" }] });
    fixture.discord.dispatch("INTERACTION_CREATE", interaction);
    const callback = await fixture.discord.waitFor("POST", /^\/interactions\/\d+\/[^/]+\/callback$/, (call) => call.path.includes((interaction as { id: string }).id));
    expect(callback.body?.type).toBe(5); // deferred at once
    const token = (interaction as { token: string }).token;
    const reply = await fixture.discord.waitFor("PATCH", new RegExp(`^/webhooks/\\d+/${token}/messages/@original$`));
    const thread = await fixture.discord.waitFor("POST", new RegExp(`^/channels/${fixture.discord.channelId}/messages/\\d+/threads$`), (call: RecordedRestCall) => call.at >= reply.at);
    const threadId = thread.path.split("/")[4]!;
    const answer = await waitForContent(threadId, /```\n45\n```/);
    expect(pipeline.llm.requests.length).toBe(before);
    // Code people ran themselves is not echoed back, and isn't rated.
    expect(String(answer.body?.content)).not.toContain("sum(range(10))");
    expect(String(answer.body?.content)).not.toContain("Code that ran");
    expect(answer.body?.components).toEqual([]);
  });

  test("/ask with a file: the question and the attachment reach the model in a new thread", async () => {
    const url = fixture.discord.hostFile("scores.csv", "name,score\nada,9\nbob,7\n");
    pipeline.llm.script(python("import pandas as pd\nprint(pd.read_csv('/mnt/data/scores.csv').score.max())"), (body: Body) => ({ content: `Top score: ${lastTool(body).match(/stdout:\n(\d+)/)?.[1]}` }));
    fixture.discord.dispatch(
      "INTERACTION_CREATE",
      chatInputInteraction({ applicationId: fixture.discord.applicationId, guildId: fixture.discord.guildId, channelId: fixture.discord.channelId, user: alice, name: "ask", options: [{ name: "question", type: 3, value: "top score?" }], file: { filename: "scores.csv", size: 22, url, contentType: "text/csv" } }),
    );
    const answer = await fixture.discord.waitFor("PATCH", /^\/channels\/\d+\/messages\/\d+$/, (call) => !hasStop(call) && String(call.body?.content ?? "").includes("Top score: 9"));
    expectFeedbackRow(answer.body?.components);
    expect(answer.path).not.toContain(`/channels/${fixture.discord.channelId}/`);
    expect(String((pipeline.llm.requests.at(-2)!.body as Body).messages.at(-1)?.content)).toMatch(/Alice: top score\?[\s\S]*\/mnt\/data\/scores\.csv/);
  });

  test("a 2,500-character answer arrives in two messages with its code block intact", async () => {
    const long = `${"Findings. ".repeat(120)}\n\n\`\`\`python\n${Array.from({ length: 30 }, (_, i) => `value_${i} = ${i} * 2`).join("\n")}\n\`\`\`\n\n${"More notes. ".repeat(40)}`;
    expect(long.length).toBeGreaterThan(2000);
    pipeline.llm.script({ content: long });
    const thread = mention("write a long report");
    await waitForContent(thread, /Findings/);
    const posted = await fixture.discord.waitFor("POST", new RegExp(`^/channels/${thread}/messages$`), (call) => String(call.body?.content ?? "").includes("More notes"));
    const parts = contents(thread).filter((text) => text.includes("Findings") || text.includes("More notes"));
    for (const part of [...parts, String(posted.body?.content)]) {
      expect(part.length).toBeLessThanOrEqual(2000);
      expect((part.match(/^```/gm) ?? []).length % 2).toBe(0);
    }
    expect(contents(thread).join("\n")).toContain("value_29 = 29 * 2");
  });

  test("a 429 from Discord is waited out by discord.js and nothing is lost", async () => {
    fixture.discord.rateLimitNext("PATCH", /^\/channels\/\d+\/messages\/\d+$/, 1);
    const thread = mention("```python\nprint('after the rate limit')\n```");
    const answer = await waitForContent(thread, /after the rate limit/);
    // The 429 given, on this thread's status message (earlier tests' bursts of edits may have met the stand-in's edit bucket too).
    const limited = fixture.discord.calls.filter((call) => call.status === 429 && call.path.startsWith(`/channels/${thread}/`));
    expect(limited.length).toBe(1);
    expect(answer.at - limited[0]!.at).toBeGreaterThanOrEqual(900);
  });

  test("Stop cancels a running turn", async () => {
    const thread = mention("```python\nimport time\ntime.sleep(120)\n```");
    const running = await waitForContent(thread, /Running your code/);
    const components = running.body?.components as Array<{ components: Array<{ custom_id: string }> }>;
    const customId = components[0]!.components[0]!.custom_id;
    const messageId = running.path.split("/").pop()!;
    fixture.discord.dispatch("INTERACTION_CREATE", buttonInteraction({ applicationId: fixture.discord.applicationId, guildId: fixture.discord.guildId, channelId: thread, user: alice, customId, message: messageCreate({ id: messageId, channelId: thread, channelType: 11, guildId: fixture.discord.guildId, author: fixture.discord.bot, content: "⚙️ Running your code…" }) }));
    const stopped = await waitForContent(thread, /cancelled/);
    expect(stopped.body?.content).toBe("⚠️ Stopped: the request was cancelled.");
  });

  test("an oversized attachment gets a clear reply", async () => {
    const url = fixture.discord.hostFile("big.csv", Buffer.alloc(2 * 1024 * 1024, "a"));
    const thread = mention("analyse", { attachments: [{ filename: "big.csv", size: 2 * 1024 * 1024, url, contentType: "text/csv" }] });
    const reply = await waitForContent(thread, /limit/);
    expect(reply.body?.content).toMatch(/"big.csv" is 2.0 MB, over the 1.0 MB limit for one file/);
  });
});
