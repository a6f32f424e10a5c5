import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { shutdown } from "./server-shutdown.js";

/**
 * A local stand-in for Slack's Web API and file hosting, for the real @slack/web-api WebClient
 * (pointed here with its `slackApiUrl` option). It records every call, answers in Slack's shapes,
 * runs the external upload flow behind files.uploadV2, and serves hosted files only to the bot token.
 * It also speaks Socket Mode: apps.connections.open (with the app token) hands out a WebSocket URL
 * on which it says hello and delivers envelopes that the app must acknowledge.
 */
export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  token?: string;
  at: number;
  /** What the stand-in answered (e.g. the ts of a posted message). */
  response?: Record<string, unknown>;
}

export interface SlackUpload {
  fileId: string;
  filename: string;
  bytes: Buffer;
  channelId?: string;
  threadTs?: string;
}

export interface SlackHostedFile {
  id: string;
  created: number;
  timestamp: number;
  name: string;
  title: string;
  mimetype: string;
  filetype: string;
  pretty_type: string;
  user: string;
  user_team: string;
  editable: boolean;
  size: number;
  mode: "hosted";
  is_external: boolean;
  external_type: string;
  is_public: boolean;
  public_url_shared: boolean;
  display_as_bot: boolean;
  username: string;
  url_private: string;
  url_private_download: string;
  permalink: string;
  permalink_public: string;
}

/** A message streamed with chat.startStream / appendStream / stopStream, as it stands. */
export interface SlackStream {
  ts: string;
  channel: string;
  threadTs: string;
  recipientUserId?: string;
  recipientTeamId?: string;
  /** The markdown_text chunks (and markdown_text arguments) put together, in order. */
  markdown: string;
  /** Every chunk received (markdown_text, task_update, plan_update, blocks), in order. */
  chunks: Array<Record<string, unknown>>;
  /** When each start/append/stop call for this message arrived (ms). */
  callTimes: number[];
  stopped: boolean;
  /** What stopStream carried besides chunks (blocks, metadata). */
  stopArgs?: Record<string, unknown>;
}

/** An assistant.threads.* call: what the app set on an assistant thread. */
export interface SlackAssistantCall {
  method: "assistant.threads.setStatus" | "assistant.threads.setSuggestedPrompts" | "assistant.threads.setTitle";
  args: Record<string, unknown>;
}

export interface SlackStandIn {
  apiUrl: string;
  botToken: string;
  botUserId: string;
  teamId: string;
  calls: SlackCall[];
  uploads: SlackUpload[];
  downloads: Array<{ path: string; authorized: boolean }>;
  callsTo(method: string): SlackCall[];
  waitFor(method: string, predicate?: (call: SlackCall) => boolean, timeoutMs?: number): Promise<SlackCall>;
  addFile(file: { name: string; mimetype: string; content: Buffer | string; user?: string }): SlackHostedFile;
  failNext(method: string, failure: { error: string; retryAfterSeconds?: number }): void;
  /** Every call of the method fails with this error until cleared (undefined), e.g. a workspace without streaming. */
  failAlways(method: string, error: string | undefined): void;
  /** Messages streamed through chat.startStream / appendStream / stopStream, in start order. */
  streams: SlackStream[];
  /** The latest text of every message (posted, updated or streamed), by ts. */
  messageText(ts: string): string | undefined;
  appToken: string;
  /** Sends a Socket Mode envelope (events_api or interactive) and resolves with the app's acknowledgement. */
  socketSend(type: "events_api" | "interactive" | "slash_commands", payload: object): Promise<{ envelope_id: string }>;
  /** A message someone posted in a thread without addressing the bot (no event reaches the app). */
  addThreadMessage(threadTs: string, message: { user: string; text: string; ts: string; files?: SlackHostedFile[] }): void;
  /** Drops every Socket Mode connection and refuses new ones (an outage) until online(true). */
  online(up: boolean): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Form fields as the WebClient sends them; JSON-encoded ones (blocks, files) are decoded back. */
function parseArgs(body: Buffer, contentType: string): Record<string, unknown> {
  if (contentType.includes("application/json")) return JSON.parse(body.toString("utf8") || "{}");
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body.toString("utf8"))) {
    try {
      args[key] = /^[[{]/.test(value) ? JSON.parse(value) : value;
    } catch {
      args[key] = value;
    }
  }
  return args;
}

/** The file's bytes from an upload URL POST: a multipart form (as the WebClient sends it) or the raw body. */
function fileFromUpload(body: Buffer, contentType: string): Buffer {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) return body;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const start = body.indexOf(delimiter);
  const headerEnd = body.indexOf("\r\n\r\n", start);
  const end = body.indexOf(Buffer.concat([Buffer.from("\r\n"), delimiter]), headerEnd);
  return start < 0 || headerEnd < 0 || end < 0 ? body : body.subarray(headerEnd + 4, end);
}

export async function startSlackStandIn(options: { botToken?: string; botUserId?: string; teamId?: string; appToken?: string } = {}): Promise<SlackStandIn> {
  const botToken = options.botToken ?? "xoxb-stand-in-token";
  const appToken = options.appToken ?? "xapp-1-A0CODEBOT1-stand-in";
  const botUserId = options.botUserId ?? "U0BOTUSER1";
  const teamId = options.teamId ?? "T0TEAM0001";
  const calls: SlackCall[] = [];
  const uploads: SlackUpload[] = [];
  const downloads: SlackStandIn["downloads"] = [];
  const hosted = new Map<string, { content: Buffer; mimetype: string }>();
  const pendingUploads = new Map<string, { filename: string; bytes?: Buffer }>();
  const threads = new Map<string, Array<Record<string, unknown>>>();
  const failures = new Map<string, { error: string; retryAfterSeconds?: number }>();
  const alwaysFailing = new Map<string, string>();
  const streams: SlackStream[] = [];
  const texts = new Map<string, string>();
  const streamAt = (ts: unknown) => streams.find((stream) => stream.ts === ts);
  /** Chunks as sent, markdown_text (the argument) first; their markdown added to the stream's. */
  const takeChunks = (stream: SlackStream, args: Record<string, unknown>) => {
    const chunks = [...(typeof args.markdown_text === "string" ? [{ type: "markdown_text", text: args.markdown_text }] : []), ...((args.chunks as Array<Record<string, unknown>>) ?? [])];
    stream.chunks.push(...chunks);
    for (const chunk of chunks) if (chunk.type === "markdown_text") stream.markdown += String(chunk.text ?? "");
    stream.callTimes.push(Date.now());
    texts.set(stream.ts, stream.markdown);
  };
  const sockets = new Set<Socket>();
  let clock = 1_700_000_000;
  let counter = 100;
  const nextTs = () => `${clock}.${String(++counter).padStart(6, "0")}`;
  let base = "";

  const sockets_ = new Set<WebSocket>();
  const acks = new Map<string, (ack: { envelope_id: string }) => void>();
  const methods: Record<string, (args: Record<string, unknown>) => Record<string, unknown>> = {
    "apps.connections.open": () => ({ url: `${base.replace("http", "ws")}/socket-mode` }),
    "auth.test": () => ({ url: "https://stand-in.slack.com/", team: "Stand-in", user: "codebot", team_id: teamId, user_id: botUserId, bot_id: "B0BOT00001", is_enterprise_install: false }),
    "chat.postMessage": (args) => {
      const ts = nextTs();
      const message = { type: "message", user: botUserId, bot_id: "B0BOT00001", text: args.text, ts, thread_ts: args.thread_ts, blocks: args.blocks ?? [] };
      texts.set(ts, String(args.text ?? ""));
      const thread = String(args.thread_ts ?? ts);
      threads.set(thread, [...(threads.get(thread) ?? []), message]);
      return { channel: args.channel, ts, message };
    },
    "chat.update": (args) => {
      texts.set(String(args.ts), String(args.text ?? ""));
      return { channel: args.channel, ts: args.ts, text: args.text, message: { text: args.text, user: botUserId } };
    },
    // Streaming (https://docs.slack.dev/messaging/sending-and-scheduling-messages#text-streaming): in
    // a thread only; outside a DM the recipient user and team are required.
    "chat.startStream": (args) => {
      if (!args.thread_ts) return { ok: false, error: "invalid_arguments" };
      if (!String(args.channel).startsWith("D") && (!args.recipient_user_id || !args.recipient_team_id)) return { ok: false, error: "missing_recipient_user_id" };
      const ts = nextTs();
      const stream: SlackStream = { ts, channel: String(args.channel), threadTs: String(args.thread_ts), recipientUserId: args.recipient_user_id as string | undefined, recipientTeamId: args.recipient_team_id as string | undefined, markdown: "", chunks: [], callTimes: [], stopped: false };
      streams.push(stream);
      takeChunks(stream, args);
      const thread = String(args.thread_ts);
      threads.set(thread, [...(threads.get(thread) ?? []), { type: "message", user: botUserId, bot_id: "B0BOT00001", ts, thread_ts: thread, text: "" }]);
      return { channel: args.channel, ts };
    },
    "chat.appendStream": (args) => {
      const stream = streamAt(args.ts);
      if (!stream) return { ok: false, error: "message_not_found" };
      if (stream.stopped) return { ok: false, error: "message_not_in_streaming_state" };
      takeChunks(stream, args);
      return { channel: args.channel, ts: args.ts };
    },
    "chat.stopStream": (args) => {
      const stream = streamAt(args.ts);
      if (!stream) return { ok: false, error: "message_not_found" };
      if (stream.stopped) return { ok: false, error: "message_not_in_streaming_state" };
      takeChunks(stream, args);
      const { chunks: _chunks, markdown_text: _markdown, channel: _channel, ts: _ts, token: _token, ...rest } = args;
      stream.stopped = true;
      stream.stopArgs = rest;
      return { channel: args.channel, ts: args.ts, message: { text: stream.markdown, user: botUserId } };
    },
    "assistant.threads.setStatus": () => ({}),
    "assistant.threads.setSuggestedPrompts": () => ({}),
    "assistant.threads.setTitle": () => ({}),
    "chat.delete": (args) => ({ channel: args.channel, ts: args.ts }),
    "chat.postEphemeral": () => ({ message_ts: nextTs() }),
    "reactions.add": () => ({}),
    "reactions.remove": () => ({}),
    "users.info": (args) => ({ user: { id: args.user, team_id: teamId, name: `user-${args.user}`, real_name: `Real ${args.user}`, profile: { display_name: `ada-${args.user}`, real_name: `Real ${args.user}` }, is_bot: false } }),
    "conversations.info": (args) => ({ channel: { id: args.channel, name: "data-team", is_channel: true, is_im: String(args.channel).startsWith("D") } }),
    "conversations.replies": (args) => ({ messages: threads.get(String(args.ts)) ?? [], has_more: false }),
    "files.getUploadURLExternal": (args) => {
      const fileId = `F${randomBytes(5).toString("hex").toUpperCase()}`;
      pendingUploads.set(fileId, { filename: String(args.filename) });
      return { upload_url: `${base}/upload/${fileId}`, file_id: fileId };
    },
    "files.completeUploadExternal": (args) => {
      const files = (args.files as Array<{ id: string; title?: string }>) ?? [];
      for (const file of files) {
        const pending = pendingUploads.get(file.id);
        uploads.push({ fileId: file.id, filename: pending?.filename ?? "", bytes: pending?.bytes ?? Buffer.alloc(0), channelId: args.channel_id as string | undefined, threadTs: args.thread_ts as string | undefined });
      }
      return { files: files.map((file) => ({ id: file.id, title: file.title ?? pendingUploads.get(file.id)?.filename })) };
    },
  };

  const json = (res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}) =>
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers }).end(JSON.stringify(body));

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const body = await readBody(req);
    if (url.pathname.startsWith("/upload/")) {
      const pending = pendingUploads.get(url.pathname.slice("/upload/".length));
      if (!pending) return void res.writeHead(404).end();
      pending.bytes = fileFromUpload(body, req.headers["content-type"] ?? "");
      return void res.writeHead(200, { "content-type": "text/plain" }).end(`OK - ${body.length}`);
    }
    if (url.pathname.startsWith("/files-pri/")) {
      const authorized = req.headers.authorization === `Bearer ${botToken}`;
      downloads.push({ path: url.pathname, authorized });
      const file = hosted.get(url.pathname);
      if (!authorized) return void res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<!DOCTYPE html><html><body>Sign in to Slack</body></html>");
      if (!file) return void res.writeHead(404).end();
      return void res.writeHead(200, { "content-type": file.mimetype, "content-length": String(file.content.length) }).end(file.content);
    }
    const method = url.pathname.replace(/^\/api\//, "");
    const token = req.headers.authorization?.replace(/^Bearer /, "");
    const args = parseArgs(body, req.headers["content-type"] ?? "");
    const call: SlackCall = { method, args, token, at: Date.now() };
    calls.push(call);
    const always = alwaysFailing.get(method);
    if (always) return json(res, 200, { ok: false, error: always });
    const failure = failures.get(method);
    if (failure) {
      failures.delete(method);
      if (failure.retryAfterSeconds !== undefined) return json(res, 429, { ok: false, error: failure.error }, { "retry-after": String(failure.retryAfterSeconds) });
      return json(res, 200, { ok: false, error: failure.error });
    }
    const appLevel = method === "apps.connections.open";
    if (token !== (appLevel ? appToken : botToken)) return json(res, 200, { ok: false, error: appLevel ? "not_allowed_token_type" : "invalid_auth" });
    const handler = methods[method];
    if (!handler) return json(res, 200, { ok: false, error: "unknown_method" });
    call.response = { ok: true, ...handler(args) };
    if (call.response.error) call.response.ok = false;
    json(res, 200, call.response);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const socketMode = new WebSocketServer({ server, path: "/socket-mode" });
  let socketModeUp = true;
  socketMode.on("connection", (ws) => {
    if (!socketModeUp) return void ws.close(1011, "socket mode unavailable");
    sockets_.add(ws);
    ws.on("close", () => sockets_.delete(ws));
    ws.on("message", (raw) => {
      const ack = JSON.parse(raw.toString()) as { envelope_id?: string };
      if (ack.envelope_id) acks.get(ack.envelope_id)?.({ envelope_id: ack.envelope_id });
    });
    ws.send(JSON.stringify({ type: "hello", num_connections: 1, debug_info: { host: "applink-stand-in", build_number: 1, approximate_connection_time: 18060 }, connection_info: { app_id: "A0CODEBOT1" } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;

  const standIn: SlackStandIn = {
    apiUrl: `${base}/api/`,
    botToken,
    botUserId,
    teamId,
    calls,
    uploads,
    downloads,
    callsTo: (method) => calls.filter((call) => call.method === method),
    async waitFor(method, predicate = () => true, timeoutMs = 60_000) {
      const started = Date.now();
      for (;;) {
        const found = calls.find((call) => call.method === method && predicate(call));
        if (found) return found;
        if (Date.now() - started > timeoutMs) throw new Error(`no ${method} call matched within ${timeoutMs} ms; calls: ${calls.map((call) => call.method).join(", ")}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    addFile({ name, mimetype, content, user = "U0ALICE001" }) {
      const id = `F${randomBytes(5).toString("hex").toUpperCase()}`;
      const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content);
      const path = `/files-pri/${teamId}-${id}/download/${encodeURIComponent(name)}`;
      hosted.set(path, { content: bytes, mimetype });
      const filetype = name.split(".").pop() ?? "binary";
      return {
        id, created: clock, timestamp: clock, name, title: name, mimetype, filetype, pretty_type: filetype.toUpperCase(), user, user_team: teamId,
        editable: false, size: bytes.length, mode: "hosted", is_external: false, external_type: "", is_public: false, public_url_shared: false,
        display_as_bot: false, username: "", url_private: `${base}/files-pri/${teamId}-${id}/${encodeURIComponent(name)}`, url_private_download: `${base}${path}`,
        permalink: `${base}/files/${user}/${id}/${encodeURIComponent(name)}`, permalink_public: `${base}/${teamId}-${id}`,
      };
    },
    failNext: (method, failure) => void failures.set(method, failure),
    failAlways: (method, error) => void (error === undefined ? alwaysFailing.delete(method) : alwaysFailing.set(method, error)),
    streams,
    messageText: (ts) => texts.get(ts),
    appToken,
    async socketSend(type, payload) {
      for (let i = 0; i < 400 && sockets_.size === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
      const envelopeId = randomBytes(8).toString("hex");
      const acked = new Promise<{ envelope_id: string }>((resolve) => acks.set(envelopeId, resolve));
      for (const ws of sockets_) ws.send(JSON.stringify({ envelope_id: envelopeId, payload, type, accepts_response_payload: false, retry_attempt: 0, retry_reason: "" }));
      return acked;
    },
    addThreadMessage(threadTs, message) {
      threads.set(threadTs, [...(threads.get(threadTs) ?? []), { type: "message", thread_ts: threadTs, ...message }]);
    },
    online(up) {
      socketModeUp = up;
      if (!up) for (const ws of sockets_) ws.close(1011, "socket mode unavailable");
    },
    close: () => shutdown(server, sockets, { server: socketMode, clients: sockets_ }),
  };
  return standIn;
}
