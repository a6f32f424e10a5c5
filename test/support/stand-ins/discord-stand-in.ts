import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { botUser, guildCreate, snowflake, type DiscordUser } from "./discord-payloads.js";
import { shutdown } from "./server-shutdown.js";

/**
 * A local stand-in for Discord: the HTTP API (under /api/v10) and a Gateway that speaks the
 * protocol discord.js uses (HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats, dispatches).
 * The real discord.js Client is pointed here with its `rest.api` option; the gateway URL comes
 * from GET /gateway/bot, as with Discord.
 */
export interface RecordedRestCall {
  method: string;
  path: string;
  body: Record<string, unknown> | undefined;
  files: Array<{ name: string; bytes: Buffer; contentType?: string }>;
  at: number;
  status: number;
  /** What the stand-in answered (e.g. the message it created, with its id). */
  response?: unknown;
}

export interface DiscordStandIn {
  apiUrl: string;
  token: string;
  bot: DiscordUser;
  applicationId: string;
  guildId: string;
  channelId: string;
  calls: RecordedRestCall[];
  identified: Promise<void>;
  dispatch(type: string, data: object): void;
  callsTo(method: string, path: RegExp): RecordedRestCall[];
  waitFor(method: string, path: RegExp, predicate?: (call: RecordedRestCall) => boolean, timeoutMs?: number): Promise<RecordedRestCall>;
  rateLimitNext(method: string, path: RegExp, retryAfterSeconds: number): void;
  /** Every matching call is refused with 403 Missing Access (Discord's answer for a channel the bot can't post in) until cleared (undefined). */
  refuseAlways(method: string, path: RegExp | undefined): void;
  /** Serves bytes as an attachment on the stand-in's CDN; returns its URL. */
  hostFile(name: string, bytes: Buffer | string): string;
  /** Drops every gateway connection and refuses new ones (an outage) until online(true). */
  online(up: boolean): void;
  close(): Promise<void>;
}

/** Discord's documented bucket for message edits in one channel. */
const EDITS_PER_WINDOW = 5;
const EDIT_WINDOW_MS = 5000;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** multipart/form-data as @discordjs/rest sends it: payload_json plus files[n] parts. */
function parseMultipart(body: Buffer, boundary: string): { json?: Record<string, unknown>; files: RecordedRestCall["files"] } {
  const files: RecordedRestCall["files"] = [];
  let json: Record<string, unknown> | undefined;
  const delimiter = Buffer.from(`--${boundary}`);
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next < 0) break;
    const part = body.subarray(start + delimiter.length + 2, next - 2);
    const headerEnd = part.indexOf("\r\n\r\n");
    const headers = part.subarray(0, headerEnd).toString("utf8");
    const content = part.subarray(headerEnd + 4);
    const name = /name="([^"]+)"/.exec(headers)?.[1];
    const filename = /filename="([^"]*)"/.exec(headers)?.[1];
    if (name === "payload_json") json = JSON.parse(content.toString("utf8"));
    else if (filename !== undefined) files.push({ name: filename, bytes: content, contentType: /content-type: ([^\r\n]+)/i.exec(headers)?.[1] });
    start = next;
  }
  return { json, files };
}

export async function startDiscordStandIn(options: { token?: string } = {}): Promise<DiscordStandIn> {
  const token = options.token ?? "stand-in.discord.token";
  const bot = botUser();
  const applicationId = bot.id;
  const guildId = snowflake();
  const channelId = snowflake();
  const calls: RecordedRestCall[] = [];
  const limits: Array<{ method: string; path: RegExp; retryAfterSeconds: number }> = [];
  const refused = new Map<string, RegExp>();
  const sockets = new Set<Socket>();
  const clients = new Set<WebSocket>();
  const messages = new Map<string, Record<string, unknown>>();
  const cdn = new Map<string, Buffer>();
  let sequence = 0;
  let onIdentified: () => void = () => undefined;
  const identified = new Promise<void>((resolve) => (onIdentified = resolve));
  let gatewayUrl = "";

  const message = (channel: string, body: Record<string, unknown> | undefined, files: RecordedRestCall["files"], id = snowflake()) => {
    const stored = {
      id, channel_id: channel, author: bot, content: body?.content ?? "", timestamp: new Date().toISOString(), edited_timestamp: null, tts: false,
      mention_everyone: false, mentions: [], mention_roles: [], embeds: [], pinned: false, type: 0, flags: Number(body?.flags ?? 0), components: body?.components ?? [],
      attachments: files.map((file) => ({ id: snowflake(), filename: file.name, size: file.bytes.length, url: `${gatewayUrl}/cdn/${file.name}`, proxy_url: `${gatewayUrl}/cdn/${file.name}`, content_type: file.contentType })),
      ...(channel === channelId ? { guild_id: guildId } : {}),
    };
    messages.set(id, stored);
    return stored;
  };

  const routes: Array<[string, RegExp, (match: RegExpExecArray, body: Record<string, unknown> | undefined, files: RecordedRestCall["files"]) => [number, unknown]]> = [
    ["GET", /^\/gateway\/bot$/, () => [200, { url: gatewayUrl, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 } }]],
    ["GET", /^\/users\/@me$/, () => [200, bot]],
    ["GET", /^\/applications\/@me$/, () => [200, { id: applicationId, name: "codebot", flags: 0, bot_public: true, bot: bot }]],
    ["PUT", /^\/applications\/(\d+)\/commands$/, (_m, body) => [200, ((body as unknown as object[]) ?? []).map((command) => ({ ...command, id: snowflake(), application_id: applicationId, version: snowflake() }))]],
    ["POST", /^\/channels\/(\d+)\/typing$/, () => [204, undefined]],
    ["POST", /^\/channels\/(\d+)\/messages$/, (m, body, files) => [200, message(m[1]!, body, files)]],
    ["PATCH", /^\/channels\/(\d+)\/messages\/(\d+)$/, (m, body) => [200, { ...(messages.get(m[2]!) ?? message(m[1]!, body, [], m[2])), ...body, edited_timestamp: new Date().toISOString() }]],
    ["PUT", /^\/channels\/(\d+)\/messages\/(\d+)\/reactions\/([^/]+)\/@me$/, () => [204, undefined]],
    [
      "POST",
      /^\/channels\/(\d+)\/messages\/(\d+)\/threads$/,
      (m, body) => [201, { id: m[2], type: 11, guild_id: guildId, parent_id: m[1], owner_id: bot.id, name: body?.name ?? "thread", last_message_id: null, rate_limit_per_user: 0, message_count: 0, member_count: 1, flags: 0, thread_metadata: { archived: false, auto_archive_duration: body?.auto_archive_duration ?? 1440, archive_timestamp: new Date().toISOString(), locked: false }, total_message_sent: 0 }],
    ],
    ["POST", /^\/interactions\/(\d+)\/([^/]+)\/callback$/, () => [204, undefined]],
    ["POST", /^\/webhooks\/(\d+)\/([^/]+)$/, (_m, body, files) => [200, message(channelId, body, files)]],
    ["PATCH", /^\/webhooks\/(\d+)\/([^/]+)\/messages\/@original$/, (m, body) => [200, message(String(body?.channel_id ?? channelId), body, [], `${BigInt(snowflake()) + 1n}`)]],
  ];

  const editTimes = new Map<string, number[]>();
  const server: Server = createServer(async (req, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const hosted = cdn.get(url.pathname);
    if (hosted) return void res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(hosted.length) }).end(hosted);
    const path = decodeURIComponent(url.pathname).replace(/^\/api\/v10/, "");
    const raw = await readBody(req);
    const type = req.headers["content-type"] ?? "";
    const boundary = /boundary=(.+)$/.exec(type)?.[1];
    const parsed = boundary ? parseMultipart(raw, boundary) : { json: raw.length ? JSON.parse(raw.toString("utf8")) : undefined, files: [] };
    const method = req.method ?? "GET";
    const call: RecordedRestCall = { method, path, body: parsed.json, files: parsed.files, at: Date.now(), status: 0 };
    calls.push(call);
    const reply = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      call.response = value;
      if (value === undefined) return void res.writeHead(status, headers).end();
      res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(value));
    };
    if (refused.get(method)?.test(path)) return reply(403, { message: "Missing Access", code: 50001 });
    const limited = limits.findIndex((limit) => limit.method === method && limit.path.test(path));
    if (limited >= 0) {
      const [{ retryAfterSeconds }] = limits.splice(limited, 1) as unknown as [{ retryAfterSeconds: number }];
      return reply(429, { message: "You are being rate limited.", retry_after: retryAfterSeconds, global: false }, {
        "retry-after": String(Math.ceil(retryAfterSeconds)), "x-ratelimit-limit": "5", "x-ratelimit-remaining": "0",
        "x-ratelimit-reset-after": String(retryAfterSeconds), "x-ratelimit-bucket": "stand-in-bucket", "x-ratelimit-scope": "user",
      });
    }
    // Discord's per-channel bucket for editing messages: 5 edits per 5 s, then 429 until room frees up.
    const edit = method === "PATCH" ? /^\/channels\/(\d+)\/messages\/\d+$/.exec(path) : null;
    if (edit) {
      const now = Date.now();
      const recent = (editTimes.get(edit[1] ?? "") ?? []).filter((at) => now - at < EDIT_WINDOW_MS);
      if (recent.length >= EDITS_PER_WINDOW) {
        const retryAfter = (EDIT_WINDOW_MS - (now - (recent[0] ?? now))) / 1000;
        return reply(429, { message: "You are being rate limited.", retry_after: retryAfter, global: false }, {
          "retry-after": String(Math.ceil(retryAfter)), "x-ratelimit-limit": String(EDITS_PER_WINDOW), "x-ratelimit-remaining": "0",
          "x-ratelimit-reset-after": String(retryAfter), "x-ratelimit-bucket": "stand-in-edits", "x-ratelimit-scope": "shared",
        });
      }
      editTimes.set(edit[1] ?? "", [...recent, now]);
    }
    const isInteraction = path.startsWith("/interactions/") || path.startsWith("/webhooks/");
    if (!isInteraction && req.headers.authorization !== `Bot ${token}`) return reply(401, { message: "401: Unauthorized", code: 0 });
    for (const [routeMethod, pattern, handler] of routes) {
      const match = pattern.exec(path);
      if (match && routeMethod === method) {
        const [status, value] = handler(match, parsed.json, parsed.files);
        return reply(status, value);
      }
    }
    reply(404, { message: "404: Not Found", code: 0 });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const gateway = new WebSocketServer({ server });
  const send = (ws: WebSocket, payload: object) => ws.send(JSON.stringify(payload));
  let gatewayUp = true;
  gateway.on("connection", (ws) => {
    if (!gatewayUp) return void ws.close(1011, "gateway unavailable");
    clients.add(ws);
    ws.on("close", () => clients.delete(ws));
    send(ws, { op: 10, d: { heartbeat_interval: 41_250 }, s: null, t: null });
    ws.on("message", (raw) => {
      const { op, d } = JSON.parse(raw.toString()) as { op: number; d: { token?: string } };
      if (op === 1) send(ws, { op: 11, d: null, s: null, t: null });
      if (op === 6) send(ws, { op: 9, d: false, s: null, t: null });
      if (op !== 2) return;
      if (d.token !== token && d.token !== `Bot ${token}`) return void ws.close(4004, "Authentication failed.");
      send(ws, {
        op: 0, t: "READY", s: ++sequence,
        d: { v: 10, user: bot, guilds: [{ id: guildId, unavailable: true }], session_id: snowflake(), resume_gateway_url: gatewayUrl, shard: [0, 1], application: { id: applicationId, flags: 0 }, private_channels: [], relationships: [], user_settings: {}, presences: [], guild_join_requests: [], geo_ordered_rtc_regions: [] },
      });
      send(ws, { op: 0, t: "GUILD_CREATE", s: ++sequence, d: guildCreate(guildId, channelId, bot) });
      onIdentified();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  gatewayUrl = `ws://127.0.0.1:${port}`;

  const standIn: DiscordStandIn = {
    apiUrl: `http://127.0.0.1:${port}/api`,
    token, bot, applicationId, guildId, channelId, calls, identified,
    dispatch(type, data) {
      sequence += 1;
      for (const ws of clients) send(ws, { op: 0, t: type, s: sequence, d: data });
    },
    callsTo: (method, path) => calls.filter((call) => call.method === method && path.test(call.path)),
    async waitFor(method, path, predicate = () => true, timeoutMs = 60_000) {
      const started = Date.now();
      for (;;) {
        const found = calls.find((call) => call.method === method && path.test(call.path) && call.status > 0 && call.status < 300 && predicate(call));
        if (found) return found;
        if (Date.now() - started > timeoutMs) throw new Error(`no ${method} ${path} matched; calls: ${calls.map((call) => `${call.method} ${call.path}`).join(", ")}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    rateLimitNext: (method, path, retryAfterSeconds) => void limits.push({ method, path, retryAfterSeconds }),
    refuseAlways: (method, path) => void (path === undefined ? refused.delete(method) : refused.set(method, path)),
    hostFile(name, bytes) {
      const path = `/attachments/${channelId}/${snowflake()}/${encodeURIComponent(name)}`;
      cdn.set(path, Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
      return `http://127.0.0.1:${port}${path}?ex=65f0&is=65e0&hm=deadbeef`;
    },
    online(up) {
      gatewayUp = up;
      if (!up) for (const ws of clients) ws.close(1011, "gateway unavailable");
    },
    close: () => shutdown(server, sockets, { server: gateway, clients }),
  };
  return standIn;
}
