import { createServer, request as httpRequest } from "node:http";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AgentLoop, type AgentSettings, type AgentTurnInput } from "../../src/agent/agent-loop.js";
import type { StatusUpdate } from "../../src/core/reply.js";
import { TurnTranscript } from "../../src/agent/turn-transcript.js";
import type { TokenUsage } from "../../src/core/token-usage.js";
import { freePort } from "../support/redis-server.js";
import { useSandboxes } from "../support/sandbox-fixture.js";
import { startChatCompletionsStandIn, type ChatCompletionsStandIn } from "../support/stand-ins/chat-completions-stand-in.js";

const { manager } = useSandboxes();
let llm: ChatCompletionsStandIn;

beforeAll(async () => {
  llm = await startChatCompletionsStandIn();
});
afterAll(async () => {
  await llm.close();
});

const settings: AgentSettings = { model: "stand-in-model", stream: false, maxRetries: 0, maxSteps: 3, maxTokens: 1_000_000, toolOutputMaxChars: 2000 };

function agent(overrides: Partial<AgentSettings> = {}): AgentLoop {
  return new AgentLoop(new OpenAI({ baseURL: llm.baseURL, apiKey: "sk-test", maxRetries: 0 }), { ...settings, ...overrides });
}

function input(session: string, statuses: StatusUpdate[] = [], signal = new AbortController().signal): AgentTurnInput {
  return {
    systemPrompt: "system",
    history: [],
    userText: "Ada: question",
    userImages: [],
    signal,
    status: async (update) => void statuses.push(update),
    execute: (code, executionSignal) => manager.execute(session, code, { signal: executionSignal }),
  };
}

const python = (code: string) => ({ toolCalls: [{ name: "python", arguments: { code } }] });

describe("the agent loop", () => {
  test.each([false, true])("runs the model's code in the session and answers (streaming: %s)", async (stream) => {
    llm.script(python("x = 21 * 2\nprint(x)"), { content: "The answer is 42." });
    const statuses: StatusUpdate[] = [];
    const output = await agent({ stream }).run(input(`loop-${stream}`, statuses));
    expect(output).toMatchObject({ markdown: "The answer is 42.", stop: "answer" });
    expect(output.executions[0]?.result.stdout).toBe("42\n");
    expect(statuses).toEqual([{ phase: "running", step: 1, text: "Running code (step 1)…" }]);
    expect(output.usage.prompt).toBeGreaterThan(0);
    const toolMessage = llm.requests.at(-1)!.body.messages.find((message) => message.role === "tool");
    expect(toolMessage?.content).toContain("stdout:\n42");
    expect(output.remembered.map((message) => message.role)).toEqual(["user", "assistant", "tool", "assistant"]);
  });

  test("stops at the step budget and says so", async () => {
    llm.script(python("1"), python("2"), python("3"));
    const output = await agent().run(input("loop-steps"));
    expect(output.stop).toBe("steps");
    expect(output.executions).toHaveLength(3);
    expect(output.markdown).toMatch(/limit of 3 code steps/);
  });

  test("stops at the token budget and says so", async () => {
    llm.script(python("1"));
    const output = await agent({ maxTokens: 10 }).run(input("loop-tokens"));
    expect(output.stop).toBe("tokens");
    expect(output.markdown).toMatch(/budget of 10 model tokens/);
  });

  test("a cancel while the model thinks ends the turn as cancelled", async () => {
    llm.script({ delayMs: 5000, then: { content: "too late" } });
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error("cancelled")), 200);
    await expect(agent().run(input("loop-cancel", [], abort.signal))).rejects.toMatchObject({ code: "CANCELLED" });
  });

  test("a tool the model invents is answered with an error, not a crash", async () => {
    llm.script({ toolCalls: [{ name: "browser", arguments: {} }] }, { content: "ok, no browser" });
    const output = await agent().run(input("loop-unknown"));
    expect(output.markdown).toBe("ok, no browser");
    expect(JSON.stringify(llm.requests.at(-1)!.body.messages)).toContain('there is no tool named browser');
  });

  test("attached images reach a vision model as data URLs", async () => {
    llm.script({ content: "I see a picture." });
    const png = Buffer.from("89504e470d0a1a0a", "hex");
    await agent().run({ ...input("loop-vision"), userImages: [{ name: "a.png", mime: "image/png", data: png }] });
    const user = llm.requests.at(-1)!.body.messages.at(-1);
    expect(JSON.stringify(user?.content)).toContain(`data:image/png;base64,${png.toString("base64")}`);
  });

  test("a model endpoint returning 503 for a while is waited out, with a visible status", async () => {
    llm.script(...Array.from({ length: 3 }, () => ({ status: 503, message: "overloaded", retryAfterSeconds: 0 })), { content: "back again" });
    const statuses: StatusUpdate[] = [];
    const output = await agent({ outageWaitMs: 20_000 }).run(input("loop-503", statuses));
    expect(output.markdown).toBe("back again");
    expect(statuses.map((status) => status.text)).toContain("Waiting for the model endpoint (it isn't answering); retrying…");
  });

  test("an endpoint that can't be reached for a few seconds is waited out; past the window the turn fails clearly", async () => {
    // A port where nothing listens yet; after 3 s a proxy to the stand-in opens there.
    const port = await freePort();
    const proxy = createServer((req, res) => {
      const upstream = new URL(llm.baseURL);
      const forward = httpRequest({ host: upstream.hostname, port: upstream.port, path: `${upstream.pathname.replace(/\/$/, "")}${req.url?.replace(/^\/v1/, "")}`, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(forward);
    });
    const opening = new Promise<void>((resolve) => setTimeout(() => proxy.listen(port, "127.0.0.1", resolve), 3000));
    try {
      llm.script({ content: "reached at last" });
      const away = new AgentLoop(new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: "sk-test", maxRetries: 0 }), { ...settings, outageWaitMs: 20_000 });
      const output = await away.run(input("loop-refused"));
      expect(output.markdown).toBe("reached at last");
      const closed = await freePort();
      const never = new AgentLoop(new OpenAI({ baseURL: `http://127.0.0.1:${closed}/v1`, apiKey: "sk-test", maxRetries: 0 }), { ...settings, outageWaitMs: 2_500 });
      await expect(never.run(input("loop-never"))).rejects.toMatchObject({ code: "MODEL_UNAVAILABLE", message: expect.stringMatching(/can't be reached \(after \d+ tries\)/) });
    } finally {
      await opening;
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  test.each([false, true])("each model call is charged as it ends, what the endpoint reported (streaming: %s)", async (stream) => {
    const first = llm.requests.length;
    llm.script(python("print(1 + 1)"), { content: "Two." });
    const charged: TokenUsage[] = [];
    const output = await agent({ stream }).run({ ...input(`loop-charge-${stream}`), charge: (usage) => void charged.push(usage) });
    const reported = llm.requests.slice(first).map((call) => ({ prompt: call.usage!.prompt_tokens, completion: call.usage!.completion_tokens }));
    expect(charged).toEqual(reported);
    expect(output.usage).toEqual({ prompt: reported[0]!.prompt + reported[1]!.prompt, completion: reported[0]!.completion + reported[1]!.completion });
  });

  test.each([false, true])("a server that reports no usage is charged an estimate, not nothing (streaming: %s)", async (stream) => {
    const first = llm.requests.length;
    llm.script({ content: "An answer of a few words from a server that counts nothing.", noUsage: true });
    const charged: TokenUsage[] = [];
    await agent({ stream }).run({ ...input(`loop-nousage-${stream}`), charge: (usage) => void charged.push(usage) });
    // The stand-in counts a token per 4 characters of the messages' JSON; the tool's definition is prompt too.
    const would = llm.requests[first]!.usage!.prompt_tokens + Math.ceil(JSON.stringify(llm.requests[first]!.body.tools).length / 4);
    expect(charged).toHaveLength(1);
    expect(charged[0]!.prompt).toBeGreaterThan(0.5 * would);
    expect(charged[0]!.prompt).toBeLessThan(1.5 * would);
    expect(charged[0]!.completion).toBe(Math.ceil("An answer of a few words from a server that counts nothing.".length / 4));
  });

  test("the token budget counts what earlier attempts of the turn spent", async () => {
    llm.script(python("1"));
    const output = await agent({ maxTokens: 5000 }).run({ ...input("loop-before"), tokensSpentBefore: 4990 });
    expect(output.stop).toBe("tokens");
  });

  test("stopped while its code runs: the transcript keeps the call, the output so far, and says the call after it never ran", async () => {
    llm.script({
      toolCalls: [
        { name: "python", arguments: { code: "import time\nprint('started', flush=True)\ntime.sleep(30)" }, id: "call_slow" },
        { name: "python", arguments: { code: "print('second')" }, id: "call_next" },
      ],
      content: "Let me run it.",
    });
    const abort = new AbortController();
    const transcript = new TurnTranscript();
    const running = agent().run({ ...input("loop-stop-code", [], abort.signal), transcript, execute: (code, signal) => manager.execute("loop-stop-code", code, { signal }) });
    setTimeout(() => abort.abort(new Error("cancelled")), 2500);
    await expect(running).rejects.toMatchObject({ code: "CANCELLED" });
    const remembered = transcript.interrupted("the request was stopped");
    expect(remembered.map((message) => message.role)).toEqual(["user", "assistant", "tool", "tool", "assistant"]);
    expect(remembered[2]).toMatchObject({ tool_call_id: "call_slow", content: expect.stringMatching(/status: cancelled[\s\S]*started/) });
    expect(remembered[3]).toMatchObject({ tool_call_id: "call_next", content: "not run: the request ended first (the request was stopped)" });
    expect(remembered[4]).toEqual({ role: "assistant", content: "(This answer was cut off here: the request was stopped)" });
  });
});
