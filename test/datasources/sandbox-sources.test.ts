import { describe, expect, test } from "vitest";
import type { SourceCallRecord } from "../../src/core/source-call.js";
import type { Caller } from "../../src/datasources/data-sources.js";
import { sessionCallHandler } from "../../src/datasources/session-call-handler.js";
import { sandboxRuntimes } from "../support/runtimes.js";
import { useSandboxes } from "../support/sandbox-fixture.js";
import { loadState, saveState } from "../support/state-snapshot.js";
import { ORDER_ROWS } from "../support/shop-data.js";
import { API_TOKEN, useSourceServers } from "../support/source-fixture.js";

/**
 * Data sources from the sandbox's own Python (`from codebot import sql, fetch, sources`), through
 * real sandboxes under every runtime, the real supervisor and real servers: DataFrames with the
 * right dtypes, every failure a DataSourceError subclass, no secret anywhere the code can look, the
 * module there in a resumed session, and 20 threads querying at once through a pool of 5. What the
 * session sends that is hostile: sandbox-source-attacks.test.ts.
 */

const servers = useSourceServers();
describe.each(await sandboxRuntimes())("under %s", (runtime) => {
  const { manager } = useSandboxes({ SANDBOX_RUNTIME: runtime, SANDBOX_POOL_SIZE: "0", SANDBOX_TIMEOUT_SECONDS: "20", SANDBOX_MAX_SESSIONS: "40" });
  const calls: SourceCallRecord[] = [];
  const caller = (session: string): Caller => ({ channel: "local:-:cli", user: "local:U1", thread: `local:-:cli:${session}`, requestId: `req-${session}` });
  const run = (session: string, code: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}) =>
    manager.execute(session, code, { ...options, onCall: sessionCallHandler(servers.sources, caller(session), (call) => calls.push(call)) });

  test("sources() lists this channel's sources with their tables, never another channel's", async () => {
    const result = await run("s", "from codebot import sources\nlisted = sources()\nprint([(s['name'], s['kind']) for s in listed])\nprint([t['name'] for t in listed[0]['tables']])");
    expect(result.stdout).toBe("[('shop', 'postgres'), ('few', 'postgres'), ('myshop', 'mysql'), ('stats', 'http'), ('down', 'postgres')]\n['orders', 'salaries']\n");
    expect(result.stdout).not.toContain("hidden");
  });

  test("sql() gives a DataFrame with the right dtypes, from PostgreSQL and MariaDB", async () => {
    const result = await run(
      "s",
      [
        "from codebot import sql",
        "df = sql('shop', 'select id, region, amount, ok, at, day, note, big, ratio from orders order by id')",
        "print(len(df), df.attrs['truncated'], df.attrs['source'])",
        "print({k: str(v) for k, v in df.dtypes.items()})",
        "print(int(df['amount'].isna().sum()), df['note'][0], str(df['at'][0]), df['day'][1].date(), df['ok'][1], int(df['big'][2]))",
        "m = sql('myshop', 'select id, amount, ok, at, day, big from orders where id < ? order by id', [4])",
        "print({k: str(v) for k, v in m.dtypes.items()})",
        "print(m['amount'].tolist(), m['big'].tolist())",
        "e = sql('shop', 'select id from orders where id < 0')",
        "print(e.shape, str(e.dtypes['id']))",
        "n = sql('shop', 'select nullif(id % 3, 0) as m, case when id % 3 = 0 then null else ok end as b from orders where id <= 6 order by id')",
        "print({k: str(v) for k, v in n.dtypes.items()}, n['m'].tolist(), n['b'].tolist())",
      ].join("\n"),
    );
    expect(result.stderr).toBe("");
    expect(result.error).toBeUndefined();
    expect(result.stdout.split("\n")).toEqual([
      `${ORDER_ROWS} False shop`,
      "{'id': 'int64', 'region': 'object', 'amount': 'float64', 'ok': 'bool', 'at': 'datetime64[ns, UTC]', 'day': 'datetime64[ns]', 'note': 'object', 'big': 'int64', 'ratio': 'float64'}",
      `${Math.floor(ORDER_ROWS / 7)} note, "quoted" 1 2026-01-01 01:00:00+00:00 2026-01-03 True 30000000000`,
      "{'id': 'int64', 'amount': 'float64', 'ok': 'int64', 'at': 'datetime64[ns]', 'day': 'datetime64[ns]', 'big': 'uint64'}",
      "[1.5, 3.0, 4.5] [10000000000, 20000000000, 30000000000]",
      "(0, 1) int64",
      "{'m': 'Int64', 'b': 'boolean'} [1, 2, <NA>, 1, 2, <NA>] [False, True, <NA>, True, False, <NA>]",
      "",
    ]);
  });

  test("a result over max_rows is cut and says so; allow_truncated=False raises TooManyRows", async () => {
    const result = await run(
      "s",
      [
        "from codebot import sql, TooManyRows",
        "df = sql('few', 'select id from orders order by id')",
        "print(len(df), df.attrs['truncated'])",
        "print(len(sql('shop', 'select id from orders', max_rows=7)))",
        "try:\n    sql('few', 'select id from orders', allow_truncated=False)\nexcept TooManyRows as error:\n    print('TooManyRows', error.code)",
      ].join("\n"),
    );
    expect(result.stdout).toBe('[codebot] few: the result was cut at 100 rows (max_rows); df.attrs["truncated"] is True. Aggregate in SQL, or filter, to see everything.\n100 True\n[codebot] shop: the result was cut at 7 rows (max_rows); df.attrs["truncated"] is True. Aggregate in SQL, or filter, to see everything.\n7\nTooManyRows too-many-rows\n');
  });

  test("every failure is a DataSourceError subclass with a clear message, never a hang", async () => {
    const result = await run(
      "s",
      [
        "import codebot",
        "cases = [",
        "  lambda: codebot.sql('nope', 'select 1'),",
        "  lambda: codebot.sql('hidden', 'select 1'),",
        "  lambda: codebot.sql('shop', 'delete from orders'),",
        "  lambda: codebot.sql('shop', 'select pg_sleep(10)'),",
        "  lambda: codebot.sql('down', 'select 1'),",
        "  lambda: codebot.sql('shop', 'select * from no_such_table'),",
        "  lambda: codebot.fetch('stats', '../admin'),",
        "  lambda: codebot.fetch('stats', 'daily.json', method='POST', body=b'x'),",
        "  lambda: codebot.fetch('stats', 'missing'),",
        "  lambda: codebot.sql('stats', 'select 1'),",
        "]",
        "for case in cases:",
        "    try:",
        "        case(); print('no error')",
        "    except codebot.DataSourceError as error:",
        "        print(type(error).__name__, error.code, getattr(error, 'status', ''), '|', error)",
      ].join("\n"),
    );
    expect(result.error).toBeUndefined();
    const lines = result.stdout.split("\n").slice(0, -1);
    const expected = [
      /^UnknownSource unknown-source {2}\| No data source named "nope" is usable here\. Usable here: shop, few, myshop, stats, down \(sources\(\) describes them\)\.$/,
      /^UnknownSource unknown-source {2}\| No data source named "hidden" is usable here\./,
      /^ReadOnlyError read-only {2}\| shop is read-only: cannot execute DELETE in a read-only transaction\.$/,
      /^QueryTimeout timeout {2}\| The query on shop ran past its 3s and was cancelled in the database\./,
      /^SourceUnreachable unreachable {2}\| down could not be reached \(ECONNREFUSED\)\./,
      /^QueryError query-failed {2}\| shop refused the statement: relation "no_such_table" does not exist$/,
      /^NotAllowedHere not-allowed {2}\| The path was refused: it has a \. or \.\. segment\.$/,
      /^NotAllowedHere not-allowed {2}\| stats allows GET only, not POST\.$/,
      /^HTTPStatusError http-status 404 \| stats answered 404 Not Found: not here/,
      /^DataSourceError bad-request {2}\| stats is an HTTP source: call fetch\("stats", path\)\.$/,
    ];
    expect(lines).toHaveLength(expected.length);
    lines.forEach((line, i) => expect(line).toMatch(expected[i]!));
    expect(await servers.pgActive("%pg_sleep(10)%")).toBe(0);
  });

  test("fetch() returns the body as bytes with its status and type; the token was added outside", async () => {
    const result = await run("s", "import json\nfrom codebot import fetch\nraw = fetch('stats', 'daily.json', params={'day': '2026-12-01'})\nprint(type(raw).__name__, raw.status, raw.content_type, json.loads(raw)['visits'])");
    expect(result.stdout).toBe("FetchedBytes 200 application/json [3, 5, 8]\n");
    expect(servers.api.requests.at(-1)?.headers.authorization).toBe(API_TOKEN);
  });

  test("no password or token anywhere the code can look: environment, files, /proc; nor in what it answered", async () => {
    await run("s", "from codebot import sql, fetch\nsql('shop', 'select 1')\nsql('myshop', 'select 1')\nfetch('stats', 'daily.json')");
    const scan = await run(
      "s",
      [
        "import os, json",
        `secrets = ${JSON.stringify(servers.secrets)}`,
        "found = [('environ', s) for s in secrets if s in json.dumps(dict(os.environ))]",
        "def look(path):",
        "    try:",
        "        with open(path, 'rb') as handle:",
        "            data = handle.read(64 << 20)",
        "    except OSError:",
        "        return",
        "    for s in secrets:",
        "        if s.encode() in data: found.append((path, s))",
        "for pid in [p for p in os.listdir('/proc') if p.isdigit()]:",
        "    for name in ('environ', 'cmdline'):",
        "        look('/proc/%s/%s' % (pid, name))",
        "for top in ('/tmp', '/mnt/data', '/etc', '/opt/codebot', '/usr/lib/python3/dist-packages/codebot', '/dev/shm', '/run', '/var'):",
        "    for folder, dirs, files in os.walk(top):",
        "        for name in files: look(os.path.join(folder, name))",
        "print(found)",
      ].join("\n"),
    );
    expect(scan.stdout).toBe("[]\n");
    const everything = JSON.stringify(scan) + servers.logLines.join("\n") + JSON.stringify(calls);
    for (const secret of servers.secrets) expect(everything).not.toContain(secret);
  });

  test("the execution's timeout bounds a query, and a stopped execution stops its query in the database", async () => {
    const started = Date.now();
    const bounded = await run("s", "from codebot import sql, QueryTimeout\ntry:\n    sql('myshop', 'select sleep(30)')\nexcept QueryTimeout as error:\n    print('QueryTimeout')", { timeoutMs: 4000 });
    expect(bounded).toMatchObject({ status: "ok", stdout: "QueryTimeout\n" });
    expect(Date.now() - started).toBeLessThan(6000);
    const stop = new AbortController();
    const running = run("s", "from codebot import sql\nsql('shop', 'select pg_sleep(2.5)')", { signal: stop.signal });
    for (let i = 0; i < 100 && (await servers.pgActive("%pg_sleep(2.5)%")) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await servers.pgActive("%pg_sleep(2.5)%")).toBe(1);
    stop.abort();
    expect((await running).status).toBe("cancelled");
    for (let i = 0; i < 20 && (await servers.pgActive("%pg_sleep(2.5)%")) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await servers.pgActive("%pg_sleep(2.5)%")).toBe(0);
    expect((await run("s", "from codebot import sql\nlen(sql('shop', 'select 1'))")).result).toBe("1");
  });

  test("each call that ran is recorded for the answer: source, SQL, rows, time, outcome", async () => {
    calls.length = 0;
    await run("s", "from codebot import sql\nsql('shop', 'select id from orders where id <= 3')\ntry:\n    sql('shop', 'delete from orders')\nexcept Exception:\n    pass");
    expect(calls).toEqual([
      { kind: "sql", source: "shop", text: "select id from orders where id <= 3", rows: 3, bytes: 6, ms: expect.any(Number), outcome: "ok" },
      { kind: "sql", source: "shop", text: "delete from orders", rows: 0, bytes: 0, ms: expect.any(Number), outcome: "read-only" },
    ]);
  });

  test("a resumed session (its variables restored in a new sandbox) still reaches the sources", async () => {
    expect((await run("resume-a", "from codebot import sql as query\nimport codebot\nn = 3")).status).toBe("ok");
    const { data } = await saveState(await manager.session("resume-a"), 64 << 20);
    const restored = await loadState(await manager.session("resume-b"), data ?? Buffer.alloc(0));
    expect(restored.restored).toEqual(expect.arrayContaining(["query", "codebot", "n"]));
    const result = await run("resume-b", "print(len(query('shop', 'select id from orders limit %d' % n)), codebot.fetch('stats', 'daily.json').status)");
    expect(result.stdout).toBe("3 200\n");
  });

  test("20 threads query at once through a pool of 5: all answer, at most 5 run in the database at a time", { timeout: 600_000 }, async () => {
    let most = 0;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        most = Math.max(most, await servers.pgActive("%pg_sleep(0.4)%"));
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    // The sandboxes start first (in parallel), so the queries overlap.
    await Promise.all(Array.from({ length: 20 }, (_, i) => run(`many-${i}`, "from codebot import sql\nready = True")));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => run(`many-${i}`, `df = sql('shop', 'select pg_sleep(0.4), ${i} as n')\nint(df['n'][0])`)));
    watching = false;
    await watch;
    expect(results.map((result) => result.error?.value ?? result.result)).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(most).toBeGreaterThanOrEqual(2);
    expect(most).toBeLessThanOrEqual(5);
  });
});
