import { createHash } from "node:crypto";
import Docker from "dockerode";
import { describe, expect, test } from "vitest";
import { collectOutputs } from "../../src/agent/turn-files.js";
import type { ExecutionResult } from "../../src/core/execution-result.js";
import { createLogger } from "../../src/log.js";
import { boundedExecAnswerSchema } from "../../src/sandbox/runner-protocol.js";
import { limitsFromConfig } from "../../src/sandbox/sandbox-limits.js";
import { DockerSandbox } from "../../src/sandbox/docker/docker-sandbox.js";
import { SandboxSession } from "../../src/sandbox/sandbox-session.js";
import { forgedExecAnswer } from "../support/hostile-result.js";
import { sandboxRuntimes } from "../support/runtimes.js";
import { useSandboxes } from "../support/sandbox-fixture.js";

// A DataFrame or Series that ends a cell comes back as a table too (the model still reads its
// text): the first rows and columns as pandas shows them, its shape, and the whole data as CSV in
// the runner's hidden folder, which the host reads and attaches. Everything of it is the
// sandbox's, so it is bounded twice, in the supervisor and on the host.

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/** The request id of the running cell, found the way an attacker would: in the kernel's frames. */
const FIND_ID = "import inspect, json, os\nrid = next(f.frame.f_locals['request']['id'] for f in inspect.stack() if 'request' in f.frame.f_locals)\n";

const SALES = [
  "import pandas as pd, numpy as np",
  "sales = pd.DataFrame({'city': ['Paris', 'Lyon', 'Nice', 'Lille'], 'region': ['north', 'south', 'south', 'north'],",
  "                      'revenue': [1.5, np.nan, 2.25, 1 / 3], 'units': [10, 20, 30, 40],",
  "                      'when': pd.to_datetime(['2024-01-01', '2024-02-01', '2024-03-01', '2024-04-01'])}).set_index('city')",
].join("\n");

describe.each(await sandboxRuntimes())("tables under %s", (runtime) => {
  const { manager } = useSandboxes({ SANDBOX_RUNTIME: runtime, SANDBOX_POOL_SIZE: "0" });
  const S = "tables";
  /** What the cell prints, exactly (the sandbox's own to_csv, repr...). */
  const printed = async (code: string) => (await manager.execute(S, `print(${code}, end='')`)).stdout;

  test("a DataFrame: its columns (index first), dtypes, rows as pandas shows them, shape, and the full CSV byte for byte", async () => {
    const result = await manager.execute(S, `${SALES}\nsales`);
    expect(result.status).toBe("ok");
    expect(result.result).toBe(await printed("repr(sales)")); // the model's text is what it always was
    expect(result.table).toMatchObject({
      kind: "dataframe",
      columns: ["city", "region", "revenue", "units", "when"],
      indexColumns: 1,
      dtypes: ["index", "object", "float64", "int64", "datetime64[ns]"],
      rows: [
        ["Paris", "north", "1.500000", "10", "2024-01-01"],
        ["Lyon", "south", "NaN", "20", "2024-02-01"],
        ["Nice", "south", "2.250000", "30", "2024-03-01"],
        ["Lille", "north", "0.333333", "40", "2024-04-01"],
      ],
      totalRows: 4,
      totalColumns: 4,
      csv: { complete: true },
    });
    const csv = result.table?.csv;
    expect(csv?.path).toMatch(/^\.codebot\/tables\/[\w.-]+\.csv$/);
    const data = await manager.download(S, csv?.path ?? "");
    expect(data.length).toBe(csv?.bytes);
    expect(data.toString("utf8")).toBe(await printed("sales.to_csv()"));
  });

  test("a default RangeIndex is not a column, in the table or the CSV; other values, and cells without a last value, have no table", async () => {
    const result = await manager.execute(S, "plain = sales.reset_index()[['city', 'units']]\nplain");
    expect(result.table).toMatchObject({ columns: ["city", "units"], indexColumns: 0, dtypes: ["object", "int64"], rows: [["Paris", "10"], ["Lyon", "20"], ["Nice", "30"], ["Lille", "40"]] });
    expect((await manager.download(S, result.table?.csv?.path ?? "")).toString()).toBe(await printed("plain.to_csv(index=False)"));
    for (const code of ["1 + 1", "{'a': [1, 2]}", "x = sales", "print(sales)", "sales.to_dict()", "None"]) {
      const other = await manager.execute(S, code);
      expect(other.status, code).toBe("ok");
      expect(other.table, code).toBeUndefined();
    }
  });

  test("a 1,000 x 30 frame shows 50 rows and 20 columns, counts all of them, and its CSV is complete", async () => {
    const result = await manager.execute(S, "rng = np.random.default_rng(1)\nbig = pd.DataFrame(rng.random((1000, 30)), columns=[f'c{i}' for i in range(30)])\nbig");
    const table = result.table!;
    expect(table.rows).toHaveLength(50);
    expect(table.columns).toEqual(Array.from({ length: 20 }, (_, i) => `c${i}`));
    expect(table.dtypes).toEqual(Array(20).fill("float64"));
    expect(table.rows.every((row) => row.length === 20 && row.every((cell) => /^0\.\d{6}$/.test(cell)))).toBe(true);
    expect(table.rows[0]?.[0]).toBe(await printed("f'{big.iloc[0, 0]:.6f}'"));
    expect([table.totalRows, table.totalColumns]).toEqual([1000, 30]);
    expect(table.csv?.complete).toBe(true);
    const data = await manager.download(S, table.csv?.path ?? "");
    expect(sha256(data)).toBe(await printed("__import__('hashlib').sha256(big.to_csv(index=False).encode()).hexdigest()"));
  });

  test("a Series is its index and one column, named after it (\"value\" when unnamed)", async () => {
    const named = await manager.execute(S, "sales['units']");
    expect(named.table).toMatchObject({ kind: "series", columns: ["city", "units"], indexColumns: 1, dtypes: ["index", "int64"], totalRows: 4, totalColumns: 1 });
    expect(named.table?.rows[0]).toEqual(["Paris", "10"]);
    expect((await manager.download(S, named.table?.csv?.path ?? "")).toString()).toBe(await printed("sales['units'].to_csv()"));
    const unnamed = await manager.execute(S, "pd.Series([0.5, None, 2.0])");
    expect(unnamed.table).toMatchObject({ kind: "series", columns: ["value"], indexColumns: 0, dtypes: ["float64"], rows: [["0.5"], ["NaN"], ["2.0"]] });
  });

  test("a MultiIndex is a column per level; MultiIndex columns are named by their levels joined with \" / \"", async () => {
    const series = await manager.execute(S, "by = sales.groupby(['region', 'units']).revenue.sum()\nby");
    expect(series.table).toMatchObject({ kind: "series", columns: ["region", "units", "revenue"], indexColumns: 2, dtypes: ["index", "index", "float64"], totalRows: 4 });
    expect(series.table?.rows[0]).toEqual(["north", "10", "1.500000"]);
    expect((await manager.download(S, series.table?.csv?.path ?? "")).toString()).toBe(await printed("by.to_csv()"));
    const pivot = await manager.execute(S, "wide = sales.reset_index().pivot_table(index='region', columns='city', values=['units'], aggfunc='sum')\nwide");
    expect(pivot.table).toMatchObject({
      columns: ["region", "units / Lille", "units / Lyon", "units / Nice", "units / Paris"],
      indexColumns: 1,
      dtypes: ["index", "float64", "float64", "float64", "float64"],
      rows: [
        ["north", "40.0", "NaN", "NaN", "10.0"],
        ["south", "NaN", "20.0", "30.0", "NaN"],
      ],
      totalColumns: 4,
    });
    expect((await manager.download(S, pivot.table?.csv?.path ?? "")).toString()).toBe(await printed("wide.to_csv()"));
  });

  test("texts are cut at 200 characters (a header too), astral characters counted as the host counts them", async () => {
    const result = await manager.execute(S, "pd.DataFrame({'h' * 300: ['a' * 500, '数' * 300, '\\U0001F600' * 150, 'line\\nbreak']})");
    const table = result.table!;
    expect(table.columns[0]?.length).toBeLessThanOrEqual(200);
    for (const [cell] of table.rows) expect(cell?.length).toBeLessThanOrEqual(200);
    expect(table.rows[2]?.[0]).toMatch(/^(\u{1F600})+…$/u);
    expect(table.rows[3]?.[0]).toBe("line\\nbreak"); // as pandas shows it: one line
  });

  test("a value that only looks like a DataFrame, or one that breaks while rendered, changes nothing", async () => {
    const fake = await manager.execute(S, "class DataFrame:\n    __module__ = 'pandas.core.frame'\n    __class__ = pd.DataFrame\n    def __repr__(self):\n        return 'fake frame'\nDataFrame()");
    expect(fake).toMatchObject({ status: "ok", result: "fake frame" });
    expect(fake.table).toBeUndefined();
    const broken = await manager.execute(S, "class Broken(pd.DataFrame):\n    @property\n    def iloc(self):\n        raise RuntimeError('no')\n    def __repr__(self):\n        return 'broken frame'\nBroken({'a': [1]})");
    expect(broken).toMatchObject({ status: "ok", result: "broken frame", stderr: "" });
    expect(broken.table).toBeUndefined();
    const exiting = await manager.execute(S, "class Leaves(pd.DataFrame):\n    @property\n    def shape(self):\n        raise SystemExit(3)\n    def __repr__(self):\n        return 'leaving frame'\nLeaves({'a': [1]})");
    expect(exiting).toMatchObject({ status: "ok", result: "leaving frame", stateLost: false });
    expect(exiting.table).toBeUndefined();
    // A cell whose __str__ raises: pandas' own repr fails, as it always did; no table either.
    const raising = await manager.execute(S, "class Bad:\n    def __str__(self):\n        raise ValueError('no str')\n    __repr__ = __str__\npd.DataFrame({'a': [Bad()]})");
    expect(raising).toMatchObject({ status: "error", error: { name: "ValueError", value: "no str" } });
    expect(raising.table).toBeUndefined();
    // A CSV that can't be written: the table without it.
    const noCsv = await manager.execute(S, "class NoCsv(pd.DataFrame):\n    def to_csv(self, *args, **kwargs):\n        raise OSError('disk')\nNoCsv({'a': [1]})");
    expect(noCsv.table).toMatchObject({ columns: ["a"], rows: [["1"]] });
    expect(noCsv.table?.csv).toBeUndefined();
    expect((await manager.execute(S, "print('alive')")).stdout).toBe("alive\n");
  });

  test("a CSV over its cap is cut at a line end and says it is incomplete", async () => {
    const result = await manager.execute(S, "huge = pd.DataFrame({'a': np.arange(2_000_000), 'b': np.arange(2_000_000) / 7, 'c': 'text'})\nhuge");
    expect(result.table).toMatchObject({ totalRows: 2_000_000, totalColumns: 3 });
    const csv = result.table?.csv;
    expect(csv?.complete).toBe(false);
    expect(csv?.bytes).toBeGreaterThan(7 << 20);
    expect(csv?.bytes).toBeLessThanOrEqual(8 << 20);
    const data = await manager.download(S, csv?.path ?? "", 16 << 20);
    expect(data.length).toBe(csv?.bytes);
    const lines = data.toString().split("\n");
    expect(lines.pop()).toBe(""); // whole lines only
    expect(lines[0]).toBe("a,b,c");
    expect(lines.at(-1)).toBe(await printed(`huge.iloc[${lines.length - 2}:${lines.length - 1}].to_csv(index=False, header=False).strip()`));
  });

  test("the CSVs stay hidden: never listed, never a change, and only the newest ten are kept", async () => {
    const paths: string[] = [];
    for (let i = 0; i < 12; i++) {
      const result = await manager.execute(S, `pd.DataFrame({'i': [${i}]})`);
      expect(result.files).toEqual([]);
      expect(result.changes).toEqual({ written: [], deleted: [], complete: true });
      paths.push(result.table?.csv?.path ?? "");
    }
    expect((await manager.listFiles(S)).map((file) => file.path).filter((path) => path.includes(".codebot"))).toEqual([]);
    const listing = (await manager.execute(S, "import json, os\nprint(json.dumps(sorted(os.listdir('/mnt/data/.codebot/tables'))))")).stdout;
    const names = JSON.parse(listing) as string[];
    expect(names).toHaveLength(10);
    for (const path of paths.slice(-10)) expect(names).toContain(path.split("/").pop());
    await expect(manager.download(S, paths[0] ?? "")).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    expect((await manager.download(S, paths.at(-1) ?? "")).toString()).toBe("i\n11\n");
  });

  test("the turn's tables come with their CSVs as table-<step>.csv, the last five; a CSV swapped for a link is not read", async () => {
    const results: ExecutionResult[] = [];
    for (let i = 1; i <= 7; i++) results.push(await manager.execute(S, i === 4 ? "print('no table')" : `pd.DataFrame({'step': [${i}]})`));
    const outputs = await collectOutputs(manager, S, results);
    expect(outputs.tables.map((table) => table.step)).toEqual([2, 3, 5, 6, 7]);
    expect(outputs.tables.map((table) => table.csv?.name)).toEqual(["table-2.csv", "table-3.csv", "table-5.csv", "table-6.csv", "table-7.csv"]);
    expect(outputs.tables.map((table) => table.csv?.data.toString())).toEqual([2, 3, 5, 6, 7].map((step) => `step\n${step}\n`));
    expect(outputs.tables[0]?.csv?.mime).toBe("text/csv");
    expect(outputs.skippedFiles).toEqual([]);

    const last = results.at(-1)!.table!.csv!.path;
    await manager.execute(S, `import os\nos.remove('/mnt/data/${last}')\nos.symlink('/etc/passwd', '/mnt/data/${last}')`);
    const swapped = await collectOutputs(manager, S, [results.at(-1)!]);
    expect(swapped.tables).toHaveLength(1);
    expect(swapped.tables[0]?.csv).toBeUndefined();
    expect(swapped.skippedFiles).toEqual([expect.stringMatching(/^table-1\.csv \(.*does not exist/)]);
  });

  test("a chart titled in Chinese, Japanese and Korean renders without missing glyphs, and is named after its title", async () => {
    const code = [
      "import io, warnings, matplotlib.pyplot as plt, seaborn as sns",
      "caught = []",
      "for theme in (False, True):",
      "    if theme:",
      "        sns.set_theme()  # resets font.family to the generic sans-serif",
      "    fig, ax = plt.subplots()",
      "    ax.bar(['東京', '서울', '北京'], [3, 2, 1])",
      "    ax.set_title('売上 월별 销售')",
      "    with warnings.catch_warnings(record=True) as seen:",
      "        warnings.simplefilter('always')",
      "        fig.savefig(io.BytesIO(), format='png')",
      "    caught += [str(w.message) for w in seen]",
      "    plt.show()",
      "print(caught)",
    ].join("\n");
    const result = await manager.execute(S, code);
    expect(result.status).toBe("ok");
    expect(result.stdout).toBe("[]\n");
    expect(result.stderr).not.toMatch(/Glyph|missing|findfont/i);
    expect(result.images.map((image) => image.title)).toEqual(["売上 월별 销售", "売上 월별 销售"]);
    const outputs = await collectOutputs(manager, S, [result]);
    expect(outputs.images.map((image) => image.name)).toEqual(["売上 월별 销售.png", "売上 월별 销售 (2).png"]);
  });

  test("a forged table on the runner's private pipe is refused by the supervisor: that session ends, clearly", async () => {
    for (const table of [
      { kind: "dataframe", columns: ["a"], indexColumns: 0, dtypes: ["int64"], rows: Array(10_000).fill(["1"]), totalRows: 10_000, totalColumns: 1 },
      { kind: "dataframe", columns: ["a"], indexColumns: 0, dtypes: ["int64"], rows: [["1"]], totalRows: 1, totalColumns: 1, csv: { path: "../../etc/passwd", bytes: 10, complete: true } },
      { kind: "dataframe", columns: ["a"], indexColumns: 0, dtypes: ["int64"], rows: [["1", "2"]], totalRows: 1, totalColumns: 1 },
    ]) {
      const result = await manager.execute(S, `${FIND_ID}os.write(4, (json.dumps({'op': 'done', 'id': rid, 'table': json.loads(${JSON.stringify(JSON.stringify(table))})}) + '\\n').encode())\nos._exit(0)`);
      expect(result).toMatchObject({ status: "killed", stateLost: true });
      expect(result.table).toBeUndefined();
      expect(result.notes.join(" ")).toMatch(/tampered with the runner's private channel \(.*table/);
      expect((await manager.execute(S, "print('alive')")).stdout).toBe("alive\n");
    }
  });
});

describe("the host's own checks of a table", () => {
  const { manager, config } = useSandboxes({ SANDBOX_POOL_SIZE: "0", SANDBOX_MAX_TURN_FILES_MB: "1" });
  const limits = limitsFromConfig(config);
  const schema = boundedExecAnswerSchema(limits);
  const table = forgedExecAnswer("x").table as Record<string, unknown>;

  test("an answer within the bounds passes, with its table and image title", () => {
    const parsed = schema.parse(forgedExecAnswer("x"));
    expect(parsed.table?.csv?.path).toBe(".codebot/tables/cell-1-00ff.csv");
    expect(parsed.images[0]?.title).toBe("Sales");
  });

  test.each([
    ["10,000 rows", { ...table, rows: Array(10_000).fill(["1"]) }],
    ["21 columns", { ...table, columns: Array(21).fill("a"), dtypes: Array(21).fill("int64"), rows: [Array(21).fill("1")] }],
    ["a cell of 10,000 characters", { ...table, rows: [["x".repeat(10_000)]] }],
    ["a header of 10,000 characters", { ...table, columns: ["x".repeat(10_000)] }],
    ["a row shorter than the columns", { ...table, columns: ["a", "b"], dtypes: ["int64", "int64"], rows: [["1"]] }],
    ["more index columns than columns", { ...table, indexColumns: 3 }],
    ["a CSV path out of /mnt/data", { ...table, csv: { path: "../../etc/passwd", bytes: 1, complete: true } }],
    ["a CSV path out of the tables folder", { ...table, csv: { path: ".codebot/tables/../../../etc/passwd", bytes: 1, complete: true } }],
    ["a CSV path to the saved variables", { ...table, csv: { path: ".codebot/state.pkl", bytes: 1, complete: true } }],
    ["an absolute CSV path", { ...table, csv: { path: "/etc/passwd", bytes: 1, complete: true } }],
    ["a CSV path of 300 characters", { ...table, csv: { path: `.codebot/tables/${"a".repeat(284)}.csv`, bytes: 1, complete: true } }],
  ])("a table with %s is refused", (_what, forged) => {
    expect(schema.safeParse(forgedExecAnswer("x", { table: forged })).success).toBe(false);
  });

  test("an image title of 10,000 characters is refused", () => {
    expect(schema.safeParse(forgedExecAnswer("x", { images: [{ ...(forgedExecAnswer("x").images as object[])[0], title: "t".repeat(10_000) }] })).success).toBe(false);
  });

  test("a frame with the largest table the bounds allow still fits in the host's frame limit", async () => {
    const { maxFrameBytes } = await import("../../src/sandbox/sandbox-limits.js");
    const text = "\u0001".repeat(220); // six bytes each as JSON
    const widest = { ...table, columns: Array(20).fill(text), dtypes: Array(20).fill(text), rows: Array(50).fill(Array(20).fill(text)), csv: { path: `.codebot/tables/${"a".repeat(100)}.csv`, bytes: 1, complete: true } };
    const frame = forgedExecAnswer("x", {
      stdout: "\u0001".repeat(limits.maxOutputBytes),
      stderr: "\u0001".repeat(limits.maxOutputBytes),
      images: Array(limits.maxImages).fill({ mime: "image/png", data: `iVBORw0KGgo${"A".repeat(Math.ceil((limits.maxImageBytes * 4) / 3) - 11)}`, title: "\u0001".repeat(200) }),
      table: widest,
    });
    expect(schema.safeParse(frame).success).toBe(true);
    expect(JSON.stringify(frame).length).toBeLessThan(maxFrameBytes(limits));
  });

  test("a sandbox whose supervisor is forged (10,000 rows, a CSV at ../../etc/passwd) is discarded, never believed", async () => {
    const docker = new Docker();
    for (const forged of [{ ...table, rows: Array(10_000).fill(["1"]) }, { ...table, csv: { path: "../../etc/passwd", bytes: 1, complete: true } }]) {
      // The image's Python speaking the protocol as a broken-out sandbox would: pong, then the forgery.
      const script = [
        "import json, os, sys",
        "forged = json.loads(os.environ['FORGED'])",
        "for line in sys.stdin:",
        "    request = json.loads(line)",
        "    answer = {'id': request['id'], 'op': 'pong', 'kernelPid': 2} if request['op'] == 'ping' else dict(forged, id=request['id'])",
        "    sys.stdout.write(json.dumps(answer) + '\\n')",
        "    sys.stdout.flush()",
      ].join("\n");
      const container = await docker.createContainer({
        Image: config.SANDBOX_IMAGE,
        Entrypoint: ["python3", "-c", script],
        Env: [`FORGED=${JSON.stringify(forgedExecAnswer("x", { table: forged }))}`],
        OpenStdin: true,
        StdinOnce: false,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        NetworkDisabled: true,
        HostConfig: { NetworkMode: "none" },
      });
      try {
        await container.start();
        const session = await SandboxSession.open("forged", new DockerSandbox(container), limits, createLogger("silent"));
        const result = await session.execute("sales");
        expect(result).toMatchObject({ status: "killed", stateLost: true });
        expect(result.table).toBeUndefined();
        expect(result.notes.join(" ")).toMatch(/sent back something malformed or too large and was discarded/);
        session.detach();
      } finally {
        await container.remove({ force: true });
      }
    }
  });

  test("a CSV over the turn's room is not fetched: the table comes without it, and the answer says why", async () => {
    const result = await manager.execute("room", "import pandas as pd, numpy as np\npd.DataFrame({'a': np.arange(100_000), 'b': np.arange(100_000) / 3})");
    expect(result.table?.csv?.bytes).toBeGreaterThan(1 << 20);
    const outputs = await collectOutputs(manager, "room", [result]);
    expect(outputs.tables).toHaveLength(1);
    expect(outputs.tables[0]?.csv).toBeUndefined();
    expect(outputs.skippedFiles).toEqual([expect.stringMatching(/^table-1\.csv \(\d+\.\d MB: over the 1\.0 MB sent per answer\)$/)]);
  });
});
