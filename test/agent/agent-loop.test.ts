import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AgentLoop, type AgentSettings, type AgentTurnInput } from "../../src/agent/agent-loop.js";
import type { StatusUpdate } from "../../src/core/reply.js";
import { useSandboxes } from "../helpers/sandbox-fixture.js";
import { startChatCompletionsStandIn, type ChatCompletionsStandIn } from "../stand-ins/chat-completions-stand-in.js";

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
});
