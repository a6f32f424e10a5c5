import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { shutdown } from "./server-shutdown.js";

/**
 * A local stand-in for OpenAI's Chat Completions API, scripted per test: each request consumes the
 * next step. It speaks the real wire format (JSON, or Server-Sent Events for `stream: true`, tool
 * calls included), so the real `openai` SDK is what talks to it.
 */
export type ResponseSpec =
  /**
   * chunkDelayMs: streamed, each 8-character delta comes this long after the one before (as a model writes).
   * cutAfterChars: streamed, the connection is cut once this many characters of content were sent
   * (no finish, no usage chunk), as a proxy or a crashed server would.
   * noUsage: the answer carries no usage at all (servers that don't report it, or ignore include_usage).
   */
  | { content: string; chunkDelayMs?: number; cutAfterChars?: number; noUsage?: boolean }
  | { toolCalls: Array<{ name: string; arguments: string | object; id?: string }>; content?: string; chunkDelayMs?: number; cutAfterChars?: number; noUsage?: boolean }
  | { status: number; message?: string; retryAfterSeconds?: number }
  | { delayMs: number; then: ResponseSpec };

export interface ChatBody {
  model: string;
  messages: Array<{ role: string; content?: unknown; tool_calls?: unknown; tool_call_id?: string }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: unknown[];
}

export type Step = ResponseSpec | ((body: ChatBody) => ResponseSpec | Promise<ResponseSpec>);

export interface RecordedRequest {
  body: ChatBody;
  headers: IncomingMessage["headers"];
  at: number;
  /** When the first word of content was sent (Date.now()), streamed or not. */
  firstContentAt?: number;
  /** The usage the stand-in reported (or would have, for a stream cut before it): prompt and completion tokens. */
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  /** Characters of content and of tool calls (names and arguments) sent before the answer ended or was cut. */
  sentChars?: number;
  /** The connection was cut (cutAfterChars) or closed by the client (a Stop) before the answer was complete. */
  cut?: boolean;
}

export interface ChatCompletionsStandIn {
  baseURL: string;
  requests: RecordedRequest[];
  script(...steps: Step[]): void;
  close(): Promise<void>;
}

const tokens = (value: unknown) => Math.ceil(JSON.stringify(value ?? "").length / 4);

function error(res: ServerResponse, status: number, message: string, retryAfter?: number): void {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
  res.writeHead(status, headers).end(JSON.stringify({ error: { message, type: status === 429 ? "rate_limit_error" : "server_error", param: null, code: null } }));
}

function message(spec: Extract<ResponseSpec, { content: string } | { toolCalls: unknown }>, callCounter: () => number) {
  const toolCalls =
    "toolCalls" in spec
      ? spec.toolCalls.map((call) => ({
          id: call.id ?? `call_${callCounter()}`,
          type: "function" as const,
          function: { name: call.name, arguments: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments) },
        }))
      : undefined;
  return { role: "assistant" as const, content: spec.content ?? null, refusal: null, ...(toolCalls ? { tool_calls: toolCalls } : {}) };
}

async function respond(res: ServerResponse, record: RecordedRequest, spec: Extract<ResponseSpec, { content: string } | { toolCalls: unknown }>, callCounter: () => number): Promise<void> {
  const body = record.body;
  const id = `chatcmpl-${randomBytes(6).toString("hex")}`;
  const created = Math.floor(Date.now() / 1000);
  const reply = message(spec, callCounter);
  const finish = reply.tool_calls ? "tool_calls" : "stop";
  const usage = { prompt_tokens: tokens(body.messages), completion_tokens: tokens(reply), total_tokens: tokens(body.messages) + tokens(reply) };
  record.usage = usage;
  record.sentChars = 0;
  if (!body.stream) {
    if (reply.content) record.firstContentAt = Date.now();
    // Not streamed, a model that writes at this pace answers once it has written everything.
    if (spec.chunkDelayMs && reply.content) await new Promise((resolve) => setTimeout(resolve, spec.chunkDelayMs! * Math.max(0, Math.ceil(reply.content!.length / 8) - 1)));
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({ id, object: "chat.completion", created, model: body.model, choices: [{ index: 0, message: reply, finish_reason: finish, logprobs: null }], ...(spec.noUsage ? {} : { usage }) }),
    );
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const chunk = (delta: object, finishReason: string | null = null) =>
    res.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model, choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }] })}\n\n`);
  chunk({ role: "assistant", content: "" });
  res.on("close", () => {
    if (!res.writableFinished) record.cut = true;
  });
  const content = reply.content ?? "";
  for (let i = 0; i < content.length; i += 8) {
    if (spec.chunkDelayMs && i > 0) await new Promise((resolve) => setTimeout(resolve, spec.chunkDelayMs));
    if (res.destroyed) return; // the client went away (a Stop)
    if (spec.cutAfterChars !== undefined && i >= spec.cutAfterChars) {
      record.cut = true;
      res.destroy();
      return;
    }
    record.firstContentAt ??= Date.now();
    const piece = content.slice(i, i + 8);
    record.sentChars = (record.sentChars ?? 0) + piece.length;
    chunk({ content: piece });
  }
  (reply.tool_calls ?? []).forEach((call, index) => {
    chunk({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } }] });
    const args = call.function.arguments;
    record.sentChars = (record.sentChars ?? 0) + call.function.name.length + args.length;
    for (let i = 0; i < args.length; i += 10) chunk({ tool_calls: [{ index, function: { arguments: args.slice(i, i + 10) } }] });
  });
  chunk({}, finish);
  if (body.stream_options?.include_usage && !spec.noUsage) res.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model, choices: [], usage })}\n\n`);
  res.end("data: [DONE]\n\n");
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export interface StandInOptions {
  /** Answers every request once the scripted steps are used up (a benchmark's model that always answers alike); without it, such a request gets a 500. */
  otherwise?: Step;
}

export async function startChatCompletionsStandIn({ otherwise }: StandInOptions = {}): Promise<ChatCompletionsStandIn> {
  const steps: Step[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let calls = 0;
  const callCounter = () => ++calls;

  async function answer(res: ServerResponse, record: RecordedRequest, spec: ResponseSpec): Promise<void> {
    if ("delayMs" in spec) {
      await new Promise((resolve) => setTimeout(resolve, spec.delayMs));
      return answer(res, record, spec.then);
    }
    if ("status" in spec) return error(res, spec.status, spec.message ?? `stand-in error ${spec.status}`, spec.retryAfterSeconds);
    await respond(res, record, spec, callCounter);
  }

  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (req.method === "GET" && path === "/v1/models") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: [{ id: "stand-in-model", object: "model", created: 0, owned_by: "stand-in" }] }));
      return;
    }
    if (req.method !== "POST" || path !== "/v1/chat/completions") return error(res, 404, `stand-in: no route ${req.method} ${path}`);
    const body = JSON.parse(await readBody(req)) as ChatBody;
    const record: RecordedRequest = { body, headers: req.headers, at: Date.now() };
    requests.push(record);
    const step = steps.shift() ?? otherwise;
    if (!step) return error(res, 500, "chat completions stand-in: no scripted response left");
    try {
      await answer(res, record, typeof step === "function" ? await step(body) : step);
    } catch (failure) {
      error(res, 500, `chat completions stand-in: the scripted step threw: ${(failure as Error).message}`);
    }
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (...more) => void steps.push(...more),
    close: () => shutdown(server, sockets),
  };
}
