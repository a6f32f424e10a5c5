import { pino } from "pino";
import { describe, expect, test } from "vitest";
import { CallAudit } from "../../src/datasources/call-audit.js";
import { parseDataSources } from "../../src/datasources/source-config.js";
import { SourceRegistry } from "../../src/datasources/source-registry.js";
import { caller, CHANNEL, type Kind, type Server, useSqlSources } from "../support/sql-source-fixture.js";

/**
 * The SQL sources against real servers (a private PostgreSQL and MariaDB, test/support), through
 * the DataSources port as the worker uses it: results and their types, every write refused for a
 * role that owns the tables, timeouts cancelled in the database, cuts, failures said clearly, pools
 * capped, introspection limited to what the role reads, and what the audit log keeps.
 */

const SLEEP: Record<Kind, (seconds: number) => string> = { postgres: (s) => `select pg_sleep(${s})`, mysql: (s) => `select sleep(${s})` };

/** The server's sessions running a sleep of codebot's (pg_stat_activity / the process list). */
function sleeping(kind: Kind, server: Server): Promise<number> {
  const sql =
    kind === "postgres"
      ? "select count(*)::int as n from pg_stat_activity where application_name = 'codebot' and state = 'active' and query like '%sleep(%'"
      : "select count(*) as n from information_schema.processlist where user = 'shop_owner' and info like '%sleep(%'";
  return server.rows(sql).then((rows) => Number(rows[0]?.n ?? 0));
}

function connections(kind: Kind, server: Server): Promise<number> {
  const sql = kind === "postgres" ? "select count(*)::int as n from pg_stat_activity where usename = 'shop_owner'" : "select count(*) as n from information_schema.processlist where user = 'shop_owner'";
  return server.rows(sql).then((rows) => Number(rows[0]?.n ?? 0));
}

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

describe.each(["postgres", "mysql"] as const)("%s sources", (kind) => {
  const fixture = useSqlSources(kind);
  const { query, logLines } = fixture;

  test("a SELECT streams its rows as CSV, each column typed for pandas; parameters fill placeholders", async () => {
    const placeholder = kind === "postgres" ? "$1" : "?";
    const { result, csv } = await query(`select id, region, amount, ok, at, day, note, big, ratio from orders where id <= ${placeholder} order by id`, { params: [7] });
    expect(result?.rows).toBe(7);
    expect(result?.truncated).toBe(false);
    const types = result!.columns.map((column) => `${column.name}:${column.type}`);
    expect(types).toEqual(
      kind === "postgres"
        ? ["id:int", "region:text", "amount:float", "ok:bool", "at:datetimetz", "day:date", "note:text", "big:int", "ratio:float"]
        : ["id:int", "region:text", "amount:float", "ok:int", "at:datetime", "day:date", "note:text", "big:uint", "ratio:float"],
    );
    const lines = csv.trimEnd().split("\n");
    expect(lines).toHaveLength(7);
    expect(lines[0]).toMatch(
      kind === "postgres"
        ? /^1,south,1\.50,False,2026-01-01 01:00:00,2026-01-02,"note, ""quoted"" 1",10000000000,0\.3333/
        : /^1,south,1\.50,0,2026-01-01 01:00:00,2026-01-02,"note, ""quoted"" 1",10000000000,0\.3333/,
    );
    expect(lines[6]).toMatch(/^7,west,\\N,/); // NULL, unquoted
    // The session is told which columns held a NULL (those are read with pandas' nullable dtypes).
    expect(result!.columns.map((column) => column.nulls)).toEqual([false, false, true, false, false, false, false, false, false]);
  });

  test("a slow query is cancelled in the database at the source's timeout, and said as a timeout", async () => {
    const started = Date.now();
    const { error } = await query(SLEEP[kind](30));
    expect(error?.code).toBe("timeout");
    expect(error?.message).toMatch(/cancelled in the database/);
    expect(Date.now() - started).toBeLessThan(4500);
    expect(await until(async () => (await sleeping(kind, fixture.server)) === 0, 1500)).toBe(true);
  });

  test("the execution's own time bounds the call, and an execution that ends stops its query in the database", async () => {
    const started = Date.now();
    const short = await query(SLEEP[kind](30), { source: "reader", deadlineMs: 2200 });
    expect(short.error?.code).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(2500);
    const stop = new AbortController();
    const running = query(SLEEP[kind](30), { source: "reader", signal: stop.signal });
    await until(async () => (await sleeping(kind, fixture.server)) + (await fixture.server.rows(kind === "postgres" ? "select count(*)::int as n from pg_stat_activity where usename = 'shop_reader' and state = 'active'" : "select count(*) as n from information_schema.processlist where user = 'shop_reader' and info like '%sleep(%'")).map((row) => Number(row.n))[0]! > 0, 3000);
    const stopped = Date.now();
    stop.abort();
    expect((await running).error?.code).toBe("cancelled");
    expect(Date.now() - stopped).toBeLessThan(1000);
    const readerSleeping = kind === "postgres" ? "select count(*)::int as n from pg_stat_activity where usename = 'shop_reader' and state = 'active' and query like '%sleep(%'" : "select count(*) as n from information_schema.processlist where user = 'shop_reader' and info like '%sleep(%'";
    expect(await until(async () => Number((await fixture.server.rows(readerSleeping))[0]?.n) === 0, 1500)).toBe(true);
  });

  test("a result is cut at max_rows (the source's or the caller's), refused instead when strict, and cut at max_bytes", async () => {
    const all = await query("select id from orders order by id");
    expect(all.result).toMatchObject({ rows: 100, truncated: true, cutBy: "max_rows" });
    expect(all.csv.trimEnd().split("\n")).toHaveLength(100);
    expect((await query("select id from orders order by id", { maxRows: 10 })).result).toMatchObject({ rows: 10, truncated: true });
    expect((await query("select id from orders where id <= 100", { strict: true })).result).toMatchObject({ rows: 100, truncated: false });
    const strict = await query("select id from orders", { strict: true });
    expect(strict.error?.code).toBe("too-many-rows");
    const bytes = await query("select note from orders order by id", { source: "tiny" });
    expect(bytes.result).toMatchObject({ truncated: true, cutBy: "max_bytes" });
    expect(bytes.result!.bytes).toBeLessThanOrEqual(2048);
    expect(Buffer.byteLength(bytes.csv)).toBe(bytes.result!.bytes);
    // The cut statement was stopped, not left running in the fixture.server.
    expect(await until(async () => (await connections(kind, fixture.server)) <= 5, 2000)).toBe(true);
  });

  test("an unreachable database and a wrong password are clear errors, with no secret in them", async () => {
    const down = await query("select 1", { source: "down" });
    expect(down.error?.code).toBe("unreachable");
    expect(down.error?.message).toMatch(/^down could not be reached/);
    const wrong = await query("select 1", { source: "wrongpw" });
    expect(wrong.error?.code).toBe("unreachable");
    expect(wrong.error?.message).toContain("refused codebot's credentials");
    for (const error of [down.error, wrong.error]) for (const secret of [...fixture.shop.secrets, "not-the-password-91"]) expect(error?.message).not.toContain(secret);
  });

  test("a source of another channel is as unknown as a made-up name; a channel with no source is told so", async () => {
    const other = await query("select 1", { source: "elsewhere" });
    expect(other.error?.code).toBe("unknown-source");
    expect(other.error?.message).not.toContain("slack:T9");
    const madeUp = await query("select 1", { source: "nope" });
    expect(madeUp.error?.code).toBe("unknown-source");
    expect(madeUp.error?.message).toMatch(/Usable here: shop, reader, tiny, wrongpw, down/);
    expect(madeUp.error?.message).not.toContain("elsewhere");
    expect((await query("select 1", { source: "shop", who: { ...caller, channel: "slack:T9:C9" } })).error?.code).toBe("unknown-source");
    const none = new SourceRegistry(parseDataSources(`x:\n  kind: ${kind}\n  url_env: U\n  channels: ["discord:1:2"]\n`, { U: fixture.shop.ownerUrl }), { log: pino({ level: "silent" }), audit: new CallAudit(pino({ level: "silent" }), false) });
    await expect(none.query(caller, { source: "x", statement: "select 1", params: [], strict: false }, { write: async () => undefined }, { deadline: Date.now() + 5000, signal: new AbortController().signal })).rejects.toMatchObject({ code: "not-allowed" });
    expect((await fixture.sources.listFor(CHANNEL)).map((source) => source.name)).toEqual(["shop", "reader", "tiny", "wrongpw", "down"]);
    expect((await fixture.sources.listFor("slack:T9:C9")).map((source) => source.name)).toEqual(["reader", "elsewhere", "wrongpw", "down"]);
    await none.close();
  });

  test("introspection lists only what the role can read", async () => {
    const reader = await fixture.sources.check("reader", 10_000);
    expect(reader.ok).toBe(true);
    expect(reader.tables?.map((table) => table.name)).toEqual(["orders"]);
    expect(reader.tables?.[0]?.columns.map((column) => column.name)).toEqual(["id", "region", "amount", "ok", "at", "day", "note", "big", "ratio"]);
    expect((await fixture.sources.check("shop", 10_000)).tables?.map((table) => table.name)).toEqual(["orders", "salaries"]);
    expect(await fixture.sources.check("down", 3000)).toMatchObject({ ok: false, problem: expect.stringMatching(/could not be reached/) });
    const prompt = await fixture.sources.describeFor(CHANNEL);
    expect(prompt).toContain("- reader (");
    expect(prompt).not.toContain("elsewhere");
  });

  test("20 concurrent queries share a pool of 5: all answer, never more than 5 at once in the database", async () => {
    let most = 0;
    let watching = true;
    const running = kind === "postgres" ? "select count(*)::int as n from pg_stat_activity where state = 'active' and pid <> pg_backend_pid() and query like '%sleep(0.25)%'" : "select count(*) as n from information_schema.processlist where info like '%sleep(0.25)%' and user = 'shop_owner'";
    const watch = (async () => {
      while (watching) {
        most = Math.max(most, Number((await fixture.server.rows(running))[0]?.n));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => query(`${SLEEP[kind](0.25)}, ${i} as n`)));
    watching = false;
    await watch;
    expect(results.map((run) => run.error?.message ?? run.result?.rows)).toEqual(Array(20).fill(1));
    expect(results.map((run) => run.csv.trim().split(",").at(-1))).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(5);
    // Four rounds of five at least: the pool held the rest back.
    expect(Date.now() - started).toBeGreaterThanOrEqual(4 * 250 - 50);
  });

  // PostgreSQL sends a value of up to 1 GB in one message; MariaDB's max_allowed_packet bounds its rows already.
  if (kind === "postgres") test("a row too large for the worker's memory ends the query, not the worker", async () => {
    const before = process.memoryUsage().rss;
    const { error } = await query("select repeat('x', 60000000) as huge");
    expect(error?.code).toBe("too-large");
    expect(error?.message).toMatch(/a row of more than 32 MiB/);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1048576);
    expect((await query("select 1 as one")).result?.rows).toBe(1);
  });

  test("each call is one audit line: ids, source, the statement's hash, rows, bytes, time, outcome; its text only with LOG_CONTENT", async () => {
    logLines.length = 0;
    await query("select id from orders where id = 1");
    await query("delete from orders where id = 2");
    const audits = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.audit === "data-source");
    expect(audits).toHaveLength(2);
    expect(audits[0]).toMatchObject({ requestId: "req-1", user: "local:U1", thread: "local:-:cli:t1", source: "shop", kind: "sql", rows: 1, outcome: "ok", statementHash: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(audits[1]).toMatchObject({ outcome: "read-only", rows: 0 });
    expect(logLines.join("\n")).not.toContain("from orders");
    const contentLines: string[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => contentLines.push(line) });
    const withContent = new SourceRegistry(parseDataSources(`shop:\n  kind: ${kind}\n  url_env: U\n  channels: ["*"]\n`, { U: fixture.shop.ownerUrl }), { log, audit: new CallAudit(log, true) });
    await withContent.query(caller, { source: "shop", statement: "select id from orders where id = 1", params: [], strict: false }, { write: async () => undefined }, { deadline: Date.now() + 5000, signal: new AbortController().signal });
    await withContent.close();
    expect(contentLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.audit === "data-source")).toMatchObject({ statement: "select id from orders where id = 1" });
    for (const secret of fixture.shop.secrets) expect([...logLines, ...contentLines].join("\n")).not.toContain(secret);
  });

  test("closing the sources closes their pools", async () => {
    expect(await connections(kind, fixture.server)).toBeGreaterThan(0);
    await fixture.sources.close();
    expect(await until(async () => (await connections(kind, fixture.server)) === 0, 3000)).toBe(true);
  });
});
