import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startChatCompletionsStandIn, type ChatCompletionsStandIn } from "./chat-completions-stand-in.js";

let llm: ChatCompletionsStandIn;
let client: OpenAI;

beforeAll(async () => {
  llm = await startChatCompletionsStandIn();
  client = new OpenAI({ baseURL: llm.baseURL, apiKey: "sk-test", maxRetries: 0 });
});
afterAll(async () => {
  await llm.close();
});

describe("the Chat Completions stand-in speaks the wire format the real SDK expects", () => {
  test("streamed tool calls arrive whole through the SDK's stream helper, with usage", async () => {
    llm.script({ toolCalls: [{ name: "python", arguments: { code: "print('a fairly long line of code')" } }] });
    const completion = await client.chat.completions
      .stream({ model: "m", messages: [{ role: "user", content: "hi" }], stream_options: { include_usage: true } })
      .finalChatCompletion();
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ code: "print('a fairly long line of code')" });
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
  });

  test("an unscripted request fails loudly", async () => {
    await expect(client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({
      status: 500,
      message: expect.stringContaining("no scripted response left"),
    });
  });
});
