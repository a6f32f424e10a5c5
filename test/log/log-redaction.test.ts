import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, test } from "vitest";
import { lineScrubber, REDACTED, scrubValue } from "../../src/log-redaction.js";

/** A logger built like createLogger's, writing into an array (createLogger writes to fd 2). */
function capture(secrets: string[]): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) });
  const log = pino(
    {
      formatters: { log: (object) => scrubValue(object) as Record<string, unknown> },
      serializers: { err: (value: unknown) => (value instanceof Error ? scrubValue(value) : value) },
      hooks: { streamWrite: lineScrubber(secrets) },
    },
    sink,
  );
  return { log, lines };
}

describe("log redaction", () => {
  test("headers named like credentials are redacted at any depth, in errors and their causes too", () => {
    const original = Object.assign(new Error("connect ECONNREFUSED"), { config: { headers: { Authorization: "Bearer opaque-value-0001", "X-Api-Key": "k-0002" } }, request: { _header: "POST /api/x" } });
    const error = Object.assign(new Error("A request error occurred", { cause: original }), { original, deeper: { a: { b: { c: { headers: { authorization: "Basic opaque-0003" } } } } } });
    const { log, lines } = capture([]);
    log.error({ err: error, extra: { response: { headers: { "set-cookie": "session=opaque-0004" } } } }, "failed");
    const line = lines.join("");
    for (const value of ["opaque-value-0001", "k-0002", "opaque-0003", "opaque-0004"]) expect(line).not.toContain(value);
    const parsed = JSON.parse(line) as { err: { message: string; original: { config: { headers: Record<string, string> } } } };
    expect(parsed.err.message).toMatch(/^A request error occurred/);
    expect(parsed.err).toMatchObject({ type: "Error" });
    expect(parsed.err.original.config.headers.Authorization).toBe(REDACTED);
    expect(line).toContain("connect ECONNREFUSED");
  });

  test("secret values and token shapes are masked in messages and stacks; objects stay bounded", () => {
    const secret = "a-configured-secret-value-1234";
    const { log, lines } = capture([secret]);
    log.warn({ err: new Error(`upstream said: key ${secret} is wrong; try xoxb-123-456-abcdef or sk-abcdefghijklmnop1234`) }, `retrying with ${secret} "Bearer abcdefghijklmnop1234uv"`);
    const line = lines.join("");
    expect(line).not.toContain(secret);
    expect(line).not.toMatch(/xoxb-123|sk-abcdefghij|Bearer abcdef/);
    expect(line.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(5);
    // Words stay words.
    expect(lineScrubber([])("Basic authentication and Bearer tokens are configured")).toBe("Basic authentication and Bearer tokens are configured");
    // A cycle, a huge buffer and a very deep object: a bounded line.
    const cyclic: Record<string, unknown> = { name: "c" };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 50; i++) deep = { deep };
    const scrubbed = scrubValue({ cyclic, buffer: Buffer.alloc(10_000_000), deep, wide: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i])) }) as Record<string, unknown>;
    const text = JSON.stringify(scrubbed);
    expect(text.length).toBeLessThan(5000);
    expect(text).toContain("[circular]");
    expect(text).toContain("[10000000 bytes]");
    expect(text).toContain("[…]");
    expect(scrubValue({ at: new Date("2025-01-02T03:04:05Z"), url: new URL("https://example.com/a?b=1") })).toEqual({ at: "2025-01-02T03:04:05.000Z", url: "https://example.com/a?b=1" });
  });
});
