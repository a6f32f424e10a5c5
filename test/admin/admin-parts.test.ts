import { describe, expect, test } from "vitest";
import { adminCredentials, authenticate, sameSecret } from "../../src/admin/admin-auth.js";
import { html } from "../../src/admin/admin-html.js";
import { ADMIN_CSS } from "../../src/admin/admin-style.js";
import { barClass, compact } from "../../src/admin/admin-usage-page.js";
import { ConfigError, loadConfig, SECRET_VARIABLES } from "../../src/config.js";
import { killedSession, mergeSnapshots, type SessionSnapshot } from "../../src/ops/session-directory.js";

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("the admin page's parts", () => {
  test("off unless ADMIN_PORT is set; the token and password are secrets, and too short ones stop the process naming them", () => {
    const config = loadConfig({});
    expect(config.ADMIN_PORT).toBe(0);
    expect(config.ADMIN_HOST).toBe("127.0.0.1");
    expect(config.ADMIN_USER).toBe("admin");
    expect(adminCredentials(config)).toBeUndefined();
    expect(SECRET_VARIABLES).toEqual(expect.arrayContaining(["ADMIN_TOKEN", "ADMIN_PASSWORD"]));
    expect(() => loadConfig({ ADMIN_PASSWORD: "short" })).toThrow(/ADMIN_PASSWORD/);
    expect(() => loadConfig({ ADMIN_TOKEN: "short" })).toThrow(ConfigError);
    expect(() => loadConfig({ ADMIN_USER: "a:b" })).toThrow(/ADMIN_USER/);
  });

  test("basic auth needs both the user and the password; a bearer token only the token; nothing else gets in", () => {
    const credentials = adminCredentials(loadConfig({ ADMIN_TOKEN: "t".repeat(20), ADMIN_USER: "ops", ADMIN_PASSWORD: "p".repeat(14) }))!;
    expect(authenticate(basic("ops", "p".repeat(14)), credentials)).toBe("basic");
    expect(authenticate(`Bearer ${"t".repeat(20)}`, credentials)).toBe("bearer");
    expect(authenticate(`bearer   ${"t".repeat(20)}`, credentials)).toBe("bearer");
    for (const header of [undefined, "", basic("admin", "p".repeat(14)), basic("ops", "p".repeat(13)), basic("ops", `${"p".repeat(14)}x`), `Bearer ${"t".repeat(19)}`, "Bearer", "Basic", "Basic !!!", `Basic ${Buffer.from("no-colon").toString("base64")}`, `Token ${"t".repeat(20)}`]) {
      expect(authenticate(header, credentials), String(header)).toBeUndefined();
    }
    // Only a password: a token-looking header gets nothing; only a token: basic auth gets nothing.
    expect(authenticate(`Bearer ${"t".repeat(20)}`, { user: "admin", password: "p".repeat(14) })).toBeUndefined();
    expect(authenticate(basic("admin", "t".repeat(20)), { user: "admin", token: "t".repeat(20) })).toBeUndefined();
    expect(sameSecret("a", "a")).toBe(true);
    expect(sameSecret("a", "a".repeat(1000))).toBe(false);
  });

  test("every value put into the page's HTML is escaped, attributes included; HTML the tag made is kept", () => {
    const hostile = `"><script>alert('x')</script>&`;
    const out = html`<td title="${hostile}">${hostile}</td>${html`<b>${hostile}</b>`}${[hostile, 2]}${undefined}${false}`.text;
    expect(out).toBe(
      `<td title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</td><b>&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</b>&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;2`,
    );
  });

  test("the history's bars are width classes the stylesheet defines (no style attribute: the CSP forbids them); tokens read short", () => {
    expect([barClass(0, 0), barClass(0, 10), barClass(1, 1000), barClass(500, 1000), barClass(1000, 1000), barClass(5, 1)]).toEqual(["w0", "w0", "w2", "w50", "w100", "w100"]);
    for (const width of ["w0", "w2", "w50", "w100"]) expect(ADMIN_CSS).toContain(`.bar > .${width} { width: ${width.slice(1)}%; }`);
    expect([compact(0), compact(950), compact(12_345), compact(100_000), compact(1_500_000), compact(2e9)]).toEqual(["0", "950", "12.3k", "100k", "1.5M", "2G"]);
  });

  test("workers' snapshots merge into one row per session: running wins over sleeping, a newer report over an older one", () => {
    const snapshot = (worker: string, at: number, sessions: SessionSnapshot["sessions"]): SessionSnapshot => ({ worker, at, sessions, omitted: 0 });
    const merged = mergeSnapshots([
      snapshot("w1", 2000, [{ sessionId: "a", state: "sleeping", files: 2, lastUsedAt: "2025-01-01T00:00:00.000Z" }, { sessionId: "b", state: "running", status: "Up 1 minute" }]),
      snapshot("w2", 1000, [{ sessionId: "a", state: "running", status: "Up 5 seconds" }, { sessionId: "b", state: "running", status: "Up 50 seconds" }, { sessionId: "c", state: "sleeping", lastUsedAt: "2025-02-01T00:00:00.000Z" }]),
    ]);
    expect(merged.map((row) => [row.sessionId, row.state, row.status])).toEqual([
      ["a", "running", "Up 5 seconds"],
      ["b", "running", "Up 1 minute"],
      ["c", "sleeping", undefined],
    ]);
    expect(merged[0]!.files).toBe(2); // what the sleeping report knew of its workspace is kept
    expect(killedSession(JSON.stringify({ sessionId: "slack:T1:C1:1.2" }))).toBe("slack:T1:C1:1.2");
    for (const message of ["", "not json", "{}", JSON.stringify({ sessionId: "" }), JSON.stringify({ sessionId: 5 })]) expect(killedSession(message)).toBeUndefined();
  });
});
