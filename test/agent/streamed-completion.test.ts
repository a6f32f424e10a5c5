import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { streamedCompletion } from "../../src/agent/streamed-completion.js";
import { startChatCompletionsStandIn, type ChatCompletionsStandIn } from "../support/stand-ins/chat-completions-stand-in.js";

let llm: ChatCompletionsStandIn;
let client: OpenAI;

beforeAll(async () => {
  llm = await startChatCompletionsStandIn();
  client = new OpenAI({ baseURL: llm.baseURL, apiKey: "sk-test", maxRetries: 0 });
});
afterAll(async () => {
  await llm.close();
});

const body = { model: "m", messages: [{ role: "user" as const, content: "hi" }] };

/** Runs one call, noting what the listeners heard. */
async function call(signal = new AbortController().signal) {
  const heard = { connected: 0, chunks: 0, content: [] as string[] };
  const completion = await streamedCompletion(client, body, signal, {
    connected: () => heard.connected++,
    chunk: () => heard.chunks++,
    content: (delta) => heard.content.push(delta),
  });
  return { completion, heard };
}

describe("a streamed model call gathered into its completion, through the real SDK", () => {
  test("content comes delta by delta, and adds up to the message, with the reported usage", async () => {
    const text = "The median is 3.5, from the six values you gave.";
    llm.script({ content: text });
    const { completion, heard } = await call();
    expect(heard.connected).toBe(1);
    expect(heard.content.join("")).toBe(text);
    expect(heard.content.length).toBeGreaterThan(1);
    expect(completion.choices[0]).toMatchObject({ finish_reason: "stop", message: { role: "assistant", content: text } });
    expect(completion.usage).toEqual(llm.requests.at(-1)?.usage);
  });

  test("tool calls streamed in pieces come whole, each under its index, ids and names kept", async () => {
    const code = "import pandas as pd\ndf = pd.read_csv('/mnt/data/sales.csv')\ndf.describe()";
    llm.script({ toolCalls: [{ id: "call_a", name: "python", arguments: { code } }, { id: "call_b", name: "python", arguments: { code: "1 + 1" } }] });
    const { completion, heard } = await call();
    expect(heard.content).toEqual([]);
    const message = completion.choices[0]?.message;
    expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
    expect(message?.content).toBeNull();
    expect(message?.tool_calls).toEqual([
      { id: "call_a", type: "function", function: { name: "python", arguments: JSON.stringify({ code }) } },
      { id: "call_b", type: "function", function: { name: "python", arguments: JSON.stringify({ code: "1 + 1" }) } },
    ]);
  });

  test("stopped while the answer streams: it rejects (never a partial answer taken for a whole one), and the stream is cut", async () => {
    llm.script({ content: "word ".repeat(200), chunkDelayMs: 20 });
    const stop = new AbortController();
    const heard: string[] = [];
    const pending = streamedCompletion(client, body, stop.signal, { connected: () => undefined, chunk: () => undefined, content: (delta) => void heard.push(delta) });
    await expect.poll(() => heard.length).toBeGreaterThan(2);
    stop.abort();
    await expect(pending).rejects.toThrow();
    await expect.poll(() => llm.requests.at(-1)?.cut).toBe(true);
    expect(heard.join("").length).toBeLessThan(1000);
  });

  test("an endpoint's error status rejects as the SDK's APIError, before anything was heard", async () => {
    llm.script({ status: 503, message: "overloaded" });
    await expect(call()).rejects.toMatchObject({ status: 503 });
  });
});
