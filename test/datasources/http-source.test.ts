import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CallAudit } from "../../src/datasources/call-audit.js";
import type { Caller, FetchRequest } from "../../src/datasources/data-sources.js";
import { parseDataSources } from "../../src/datasources/source-config.js";
import { SourceError } from "../../src/datasources/source-error.js";
import { SourceRegistry } from "../../src/datasources/source-registry.js";
import { freePort } from "../support/redis-server.js";
import { startHttpApi, type HttpApiStandIn } from "../support/stand-ins/http-api-stand-in.js";

/**
 * HTTP sources against a real local server: paths stay under base_url whatever the path says,
 * redirects elsewhere are not followed, the secret header is added by the worker, methods and sizes
 * are as configured, and failures are clear.
 */

const TOKEN = "Bearer stats-t0ken-6d1f0a";
const caller: Caller = { channel: "local:-:cli", user: "local:U1", thread: "local:-:cli:t1", requestId: "req-h" };
let api: HttpApiStandIn;
let sources: SourceRegistry;
const logLines: string[] = [];

beforeAll(async () => {
  api = await startHttpApi();
  const closed = await freePort();
  const yaml = `
stats:
  kind: http
  base_url: ${api.baseUrl}
  headers_env: {Authorization: STATS_AUTH}
  channels: ["*"]
  max_bytes: 1048576
  timeout_seconds: 1
writer:
  kind: http
  base_url: ${api.baseUrl}
  methods: [GET, POST]
  channels: ["*"]
down:
  kind: http
  base_url: http://127.0.0.1:${closed}/api/
  channels: ["*"]
`;
  const log = pino({ level: "info" }, { write: (line: string) => logLines.push(line) });
  sources = new SourceRegistry(parseDataSources(yaml, { STATS_AUTH: TOKEN }), { log, audit: new CallAudit(log, false) });
});
afterAll(async () => {
  await sources?.close();
  await api?.close();
});

async function fetchFrom(request: Partial<FetchRequest> & { path: string }) {
  const chunks: Buffer[] = [];
  try {
    const result = await sources.fetch(caller, { source: "stats", method: "GET", query: {}, ...request }, { write: async (chunk) => void chunks.push(chunk) }, { deadline: Date.now() + 30_000, signal: new AbortController().signal });
    return { result, body: Buffer.concat(chunks).toString("utf8") };
  } catch (error) {
    if (!(error instanceof SourceError)) throw error;
    return { error, body: Buffer.concat(chunks).toString("utf8") };
  }
}

describe("an HTTP source", () => {
  test("a path under the base URL, with params as its query: the body comes back, the secret header was added by the worker", async () => {
    const { result, body } = await fetchFrom({ path: "daily.json", query: { day: "2026-12-01", tag: ["a", "b"] } });
    expect(result).toMatchObject({ status: 200, contentType: "application/json" });
    expect(JSON.parse(body)).toEqual({ day: "2026-12-01", visits: [3, 5, 8], tags: ["a", "b"] });
    const seen = api.requests.at(-1)!;
    expect(seen.url).toBe("/api/v1/daily.json?day=2026-12-01&tag=a&tag=b");
    expect(seen.headers.authorization).toBe(TOKEN);
    // The other source has no header configured: none is sent.
    await sources.fetch(caller, { source: "writer", path: "daily.json", method: "GET", query: {} }, { write: async () => undefined }, { deadline: Date.now() + 5000, signal: new AbortController().signal });
    expect(api.requests.at(-1)!.headers.authorization).toBeUndefined();
  });

  test("no path leaves the base URL, and the server never sees an attempt", async () => {
    const before = api.requests.length;
    for (const path of ["../../admin/keys", "%2e%2e/%2e%2e/admin/keys", "%252e%252e/admin", "//127.0.0.2/api/v1/daily.json", "/admin/keys", `http://127.0.0.1:${api.port}/admin/keys`, "a%2f..%2f..%2fadmin", "..\\admin", "daily.json?x=1#y"]) {
      const { error } = await fetchFrom({ path });
      expect(error?.code, path).toBe("not-allowed");
      expect(error?.message, path).toMatch(/^The path was refused/);
    }
    expect(api.requests.length).toBe(before);
  });

  test("redirects are followed only while they stay under the base URL", async () => {
    expect(JSON.parse((await fetchFrom({ path: "redirect-inside" })).body)).toMatchObject({ day: "moved" });
    for (const path of ["redirect-outside", "redirect-other-host"]) {
      const { error } = await fetchFrom({ path });
      expect(error?.code, path).toBe("not-allowed");
      expect(error?.message).toMatch(/redirected outside its base URL/);
    }
    expect((await fetchFrom({ path: "redirect-loop" })).error?.message).toMatch(/redirected more than 3 times/);
    expect(api.requests.some((request) => request.url.startsWith("/admin"))).toBe(false);
  });

  test("GET only unless the source allows more; a body with an allowed method; response headers never passed on", async () => {
    expect((await fetchFrom({ path: "echo", method: "POST", body: Buffer.from("x") })).error).toMatchObject({ code: "not-allowed", message: expect.stringMatching(/allows GET only, not POST/) });
    expect((await fetchFrom({ path: "echo", method: "DELETE" })).error?.code).toBe("not-allowed");
    const posted = await fetchFrom({ source: "writer", path: "echo", method: "POST", body: Buffer.from('{"a":1}'), contentType: "application/json" });
    expect(posted.result).toMatchObject({ status: 200, contentType: "application/json" });
    expect(posted.body).toBe('{"a":1}');
    expect(JSON.stringify(posted.result)).not.toContain("server-secret");
    expect((await fetchFrom({ source: "writer", path: "echo", method: "GET", body: Buffer.from("x") })).error?.code).toBe("bad-request");
  });

  test("bodies over max_bytes are refused (declared or streamed), error statuses and slow or absent servers are clear", async () => {
    for (const path of ["big", "big-chunked"]) {
      const { error, body } = await fetchFrom({ path });
      expect(error?.code, path).toBe("too-large");
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(1048576);
    }
    const missing = await fetchFrom({ path: "missing" });
    expect(missing.error).toMatchObject({ code: "http-status", details: { status: 404 } });
    expect(missing.error?.message).toBe("stats answered 404 Not Found: not here [31mred [0m");
    const slow = await fetchFrom({ path: "slow" });
    expect(slow.error?.code).toBe("timeout");
    expect((await fetchFrom({ source: "down", path: "x" })).error?.code).toBe("unreachable");
    expect((await fetchFrom({ source: "stats", path: "x", method: "GET" })).error?.code).toBe("http-status");
  });

  test("a SQL call on an HTTP source says which call to make; the token is in no log line", async () => {
    await expect(sources.query(caller, { source: "stats", statement: "select 1", params: [], strict: false }, { write: async () => undefined }, { deadline: Date.now() + 5000, signal: new AbortController().signal })).rejects.toMatchObject({
      code: "bad-request",
      message: expect.stringContaining('fetch("stats", path)'),
    });
    const audits = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.audit === "data-source");
    expect(audits.length).toBeGreaterThan(10);
    expect(audits.map((line) => line.outcome)).toEqual(expect.arrayContaining(["ok", "not-allowed", "too-large", "http-status", "timeout", "unreachable", "bad-request"]));
    expect(logLines.join("\n")).not.toContain("stats-t0ken");
    expect(logLines.join("\n")).not.toContain("2026-12-01");
  });
});
