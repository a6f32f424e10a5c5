/**
 * The stand-in model of `npm run bench:pipeline`, in a process of its own (bench/model-process.ts
 * forks it): a real model answers from another machine, so its work must not share the worker's
 * event loop and CPU with the turns being timed. Every request is answered as a one-tool-call turn:
 * the first call of a turn asks to run `x = 1`, the call after the tool's result answers "done".
 * Speaks to its parent over the IPC channel: "ready" with its base URL, then the number of requests
 * served whenever asked ("count").
 */
import { startChatCompletionsStandIn, type ChatBody, type ResponseSpec } from "../test/support/stand-ins/chat-completions-stand-in.js";

export const oneToolCall = (body: ChatBody): ResponseSpec =>
  body.messages.at(-1)?.role === "tool" ? { content: "done" } : { toolCalls: [{ name: "python", arguments: { code: "x = 1" } }] };

export type ModelServerMessage = { type: "ready"; baseURL: string } | { type: "count"; requests: number };

async function serve(): Promise<void> {
  const llm = await startChatCompletionsStandIn({ otherwise: oneToolCall });
  const tell = (message: ModelServerMessage) => process.send?.(message);
  process.on("message", (message: unknown) => {
    if ((message as { type?: string }).type === "count") tell({ type: "count", requests: llm.requests.length });
  });
  process.on("disconnect", () => void llm.close().finally(() => process.exit(0)));
  tell({ type: "ready", baseURL: llm.baseURL });
}

if (process.send) void serve();
