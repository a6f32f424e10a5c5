import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { loadOverview } from "../../src/admin/admin-data.js";
import { overviewPage } from "../../src/admin/admin-pages.js";
import { loadConfig } from "../../src/config.js";
import { usePipeline } from "../support/pipeline-fixture.js";
import { startPostgres, type TestPostgres } from "../support/postgres-server.js";
import { freePort } from "../support/redis-server.js";
import { runCli } from "../support/run-cli.js";
import { seedPostgresShop } from "../support/shop-data.js";
import { startHttpApi, type HttpApiStandIn } from "../support/stand-ins/http-api-stand-in.js";

/**
 * Data sources through the whole pipeline: a real worker reads DATA_SOURCES_FILE, tells the model
 * (the stand-in records what it was sent) about its channel's sources and their tables, the model's
 * code queries them, the answer shows each query, the notebook export keeps it, the admin page and
 * /metrics count it, and no secret reaches the model, the answer or a log line. The CLI lists and
 * checks the sources; a bad file stops the worker naming the key.
 */

const TOKEN = "Bearer pipe-t0ken-41aa9e";
let pg: TestPostgres;
let api: HttpApiStandIn;
let secrets: string[] = [];
let metricsPort = 0;
const dir = mkdtempSync(join(tmpdir(), "codebot-sources-"));
afterAll(async () => {
  await Promise.all([pg?.stop(), api?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const pipeline = usePipeline({}, async () => {
  [pg, api] = await Promise.all([startPostgres(), startHttpApi()]);
  const shop = await seedPostgresShop(pg);
  secrets = [...shop.secrets, "pipe-t0ken-41aa9e"];
  metricsPort = await freePort();
  const closed = await freePort();
  writeFileSync(
    join(dir, "sources.yml"),
    `warehouse:
  kind: postgres
  url_env: WAREHOUSE_URL
  description: Orders of the shop, one row per order
  channels: ["local:*"]
stats:
  kind: http
  base_url: ${api.baseUrl}
  headers_env: {Authorization: STATS_AUTH}
  channels: ["local:-:cli"]
hidden:
  kind: postgres
  url_env: WAREHOUSE_URL
  description: The finance team's ledger
  channels: ["slack:TFIN:*"]
down:
  kind: postgres
  url_env: DOWN_URL
  channels: ["slack:TFIN:*"]
`,
  );
  return {
    DATA_SOURCES_FILE: join(dir, "sources.yml"),
    WAREHOUSE_URL: shop.ownerUrl,
    DOWN_URL: shop.ownerUrl.replace(`:${pg.port}/`, `:${closed}/`),
    STATS_AUTH: TOKEN,
    METRICS_PORT: String(metricsPort),
  };
});

type Body = { messages: Array<{ role: string; content?: unknown }> };
const lastToolResult = (body: Body) => String([...body.messages].reverse().find((message) => message.role === "tool")?.content ?? "");

describe("data sources through a worker", () => {
  test("the model is told its channel's sources and tables; its code queries them; the answer shows each query", async () => {
    pipeline.llm.script(
      { toolCalls: [{ name: "python", arguments: { code: 'from codebot import sql, fetch\nimport json\ndf = sql("warehouse", "select region, count(*) as n from orders group by region order by region")\nprint(df.to_dict("list"))\nprint(json.loads(fetch("stats", "daily.json"))["visits"])' } }] },
      (body: Body) => ({ content: `Orders per region: ${lastToolResult(body).match(/\{.*\}/)?.[0]}` }),
    );
    const before = pipeline.llm.requests.length;
    const run = await pipeline.ask(["--thread", "sources-1", "--out", join(dir, "out1"), "how many orders per region?"]);
    expect(run.code, run.stderr).toBe(0);
    const system = String((pipeline.llm.requests[before]!.body as Body).messages[0]?.content);
    expect(system).toContain("- warehouse (postgres, at most 100,000 rows): Orders of the shop, one row per order");
    expect(system).toMatch(/Tables: orders\(id integer, region text, amount numeric\(10,2\), ok boolean, at timestamp with time zone, day date, note text, big bigint, ratio double precision\); salaries\(name text, amount integer\)/);
    expect(system).toContain("- stats (http, GET)");
    expect(system).not.toContain("hidden");
    expect(system).not.toContain("finance");
    expect(run.stdout).toContain("Orders per region: {'region': ['east', 'north', 'south', 'west'], 'n': [125, 125, 125, 125]}");
    expect(run.stdout).toContain("**Data queries**");
    expect(run.stdout).toMatch(/Step 1 · `warehouse` · 4 rows · \d+ ms\n```sql\nselect region, count\(\*\) as n from orders group by region order by region\n```/);
    expect(run.stdout).toMatch(/Step 1 · `stats` · \d+ B · \d+ ms · `GET daily\.json`/);
    expect(lastToolResult(pipeline.llm.requests.at(-1)!.body as Body)).toContain("[3, 5, 8]");
    expect(api.requests.at(-1)?.headers.authorization).toBe(TOKEN);
  });

  test("a refused write is a ReadOnlyError in the cell, and shows in the step", async () => {
    pipeline.llm.script(
      { toolCalls: [{ name: "python", arguments: { code: 'from codebot import sql\nsql("warehouse", "delete from orders")' } }] },
      (body: Body) => ({ content: lastToolResult(body).includes("ReadOnlyError") ? "It is read-only." : "no error came back" }),
    );
    const run = await pipeline.ask(["--thread", "sources-2", "delete the orders"]);
    expect(run.stdout).toContain("It is read-only.");
    expect(run.stdout).toMatch(/Step 1 · `warehouse` · refused \(read-only\) · \d+ ms\n```sql\ndelete from orders\n```/);
    expect(Number((await pg.admin("select count(*)::int as n from orders", [], "shop")).rows[0]?.n)).toBe(500);
  });

  test("the exported notebook keeps each cell's queries", async () => {
    const out = join(dir, "export");
    const run = await runCli(["export", "--thread", "sources-1", "--out", out], { env: pipeline.env });
    expect(run.code, run.stderr).toBe(0);
    const file = run.stdout.match(/\S+\.ipynb/)?.[0] ?? "";
    const notebook = JSON.parse(readFileSync(file.startsWith("/") ? file : join(out, file), "utf8")) as { cells: Array<{ cell_type: string; source: string }> };
    const queries = notebook.cells.find((cell) => cell.cell_type === "markdown" && cell.source.startsWith("Data queries of the cell above"));
    expect(queries?.source).toContain("**warehouse** (sql) · 4 rows");
    expect(queries?.source).toContain("```sql\nselect region, count(*) as n from orders group by region order by region\n```");
    expect(queries?.source).toContain("**stats** (fetch)");
  });

  test("the admin page and /metrics count the calls per source", async () => {
    const overview = await loadOverview(pipeline.redis, pipeline.keys, loadConfig({ ...process.env, ...pipeline.env }));
    expect(overview.sources.ok && overview.sources.value.counts).toEqual(
      expect.arrayContaining([
        { source: "warehouse", today: { ok: 1, failed: 1 }, week: { ok: 1, failed: 1 } },
        { source: "stats", today: { ok: 1, failed: 0 }, week: { ok: 1, failed: 0 } },
      ]),
    );
    expect(overview.sources.ok && overview.sources.value.failures[0]).toMatchObject({ source: "warehouse", code: "read-only", user: expect.stringMatching(/^local:/) });
    const page = overviewPage(overview, "csrf-token");
    expect(page).toContain('<section id="data-sources"><h2>Data sources</h2>');
    expect(page).toContain("read-only");
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/codebot_datasource_calls_total\{source="warehouse",kind="sql",outcome="ok",role="worker"\} 1/);
    expect(metrics).toMatch(/codebot_datasource_calls_total\{source="warehouse",kind="sql",outcome="read-only",role="worker"\} 1/);
    expect(metrics).toMatch(/codebot_datasource_rows_total\{source="warehouse",role="worker"\} 4/);
  });

  test("no password or token in anything the model was sent, the answers, or any log line; the audit line has no SQL", async () => {
    const everything = JSON.stringify(pipeline.llm.requests.map((request) => request.body)) + pipeline.worker.logs();
    for (const secret of secrets) expect(everything).not.toContain(secret);
    const audits = pipeline.worker
      .logs()
      .split("\n")
      .filter((line) => line.includes('"audit":"data-source"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(audits.map((line) => `${line.source} ${line.outcome}`)).toEqual(["warehouse ok", "stats ok", "warehouse read-only"]);
    expect(audits[0]).toMatchObject({ user: expect.stringMatching(/^local:/), thread: "local:-:cli:sources-1", rows: 4, statementHash: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(audits[0]?.statement).toBeUndefined();
    expect(pipeline.worker.logs()).not.toContain("group by region");
  });

  test("codebot sources list shows each source, its channels and whether it answers; check NAME reads its tables", async () => {
    const list = await runCli(["sources", "list"], { env: pipeline.env });
    expect(list.code).toBe(1); // one source does not answer
    expect(list.stdout).toContain("warehouse (postgres, url from WAREHOUSE_URL)\n  channels: local:*\n  answers (");
    expect(list.stdout).toContain(`stats (http, ${api.baseUrl})`);
    expect(list.stdout).toMatch(/down \(postgres, url from DOWN_URL\)\n {2}channels: slack:TFIN:\*\n {2}DOES NOT ANSWER: down could not be reached/);
    const check = await runCli(["sources", "check", "warehouse"], { env: pipeline.env });
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/^warehouse answers \(\d+ ms\); its role can read 2 tables:\n {2}orders\(id integer, region text/);
    expect((await runCli(["sources", "check", "nope"], { env: pipeline.env })).stderr).toContain('No data source "nope" in DATA_SOURCES_FILE (warehouse, stats, hidden, down)');
    for (const secret of secrets) expect(list.stdout + list.stderr + check.stdout).not.toContain(secret);
  });

  test("a bad DATA_SOURCES_FILE stops the worker at start, naming the key and the problem", async () => {
    writeFileSync(join(dir, "bad.yml"), 'warehouse:\n  kind: postgres\n  url_env: NOT_SET_ANYWHERE\n  channels: ["*"]\n  max_rows: -1\n');
    const run = await runCli(["worker"], { env: { ...pipeline.env, DATA_SOURCES_FILE: join(dir, "bad.yml") } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`codebot: DATA_SOURCES_FILE (${join(dir, "bad.yml")}) is invalid:\n  warehouse.max_rows: Number must be greater than or equal to 1`);
    const unset = await runCli(["worker"], { env: { ...pipeline.env, DATA_SOURCES_FILE: join(dir, "sources.yml"), WAREHOUSE_URL: "" } });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain("warehouse.url_env: the variable WAREHOUSE_URL is not set");
  });
});
