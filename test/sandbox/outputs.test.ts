import { describe, expect, test } from "vitest";
import { collectOutputs, titleFileName } from "../../src/agent/turn-files.js";
import { useSandboxes } from "../support/sandbox-fixture.js";

const { manager } = useSandboxes();

const PNG_MAGIC = "89504e470d0a1a0a";

function isPng(base64: string): boolean {
  return Buffer.from(base64, "base64").subarray(0, 8).toString("hex") === PNG_MAGIC;
}

describe("charts and files come back", () => {
  test("plt.show() returns the figure as a PNG", async () => {
    const result = await manager.execute("charts", "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title('shown')\nplt.show()");
    expect(result.status).toBe("ok");
    expect(result.images).toHaveLength(1);
    expect(result.images[0]?.mime).toBe("image/png");
    expect(isPng(result.images[0]?.data ?? "")).toBe(true);
    expect(result.images[0]?.title).toBe("shown");
  });

  test("an image's title is the figure's suptitle, else its first axes' title; untitled figures and PIL images have none", async () => {
    const result = await manager.execute(
      "charts",
      [
        "import matplotlib.pyplot as plt",
        "fig, (a, b) = plt.subplots(1, 2); a.set_title('left axes'); b.set_title('right axes'); fig.suptitle('  The\\nwhole  figure ')",
        "fig, ax = plt.subplots(); ax.set_title('Sales by month')",
        "fig, ax = plt.subplots(); ax.set_title('on the left', loc='left')",
        "fig, ax = plt.subplots(); ax.plot([1, 2])",
        "fig, ax = plt.subplots(); ax.set_title('x' * 500)",
        "plt.show()",
        "from PIL import Image",
        "display(Image.new('RGB', (4, 4), 'red'))",
      ].join("\n"),
    );
    expect(result.status).toBe("ok");
    expect(result.images.map((image) => image.title)).toEqual(["The whole figure", "Sales by month", "on the left", undefined, `${"x".repeat(199)}…`, undefined]);
  });

  test("images are named after their titles, made safe and distinct, else chart-<step>.png (chart-<step>-<n>.png for several)", async () => {
    const titled = await manager.execute(
      "charts",
      [
        "import matplotlib.pyplot as plt",
        "for title in ('Sales by month', 'Sales by month', 'SALES BY MONTH', '../../etc/passwd <!channel>\u202e\u200b', '...', ''):",
        "    fig, ax = plt.subplots(); ax.set_title(title)",
        "plt.show()",
      ].join("\n"),
    );
    const single = await manager.execute("charts", "plt.plot([1]); plt.show()");
    const none = await manager.execute("charts", "print('no chart')");
    const outputs = await collectOutputs(manager, "charts", [titled, none, single]);
    expect(outputs.images.map((image) => image.name)).toEqual([
      "Sales by month.png",
      "Sales by month (2).png",
      "SALES BY MONTH (3).png",
      "-..-etc-passwd _!channel_.png",
      "chart-1-5.png",
      "chart-1-6.png",
      "chart-3.png",
    ]);
    expect(outputs.images.every((image) => isPng(image.data.toString("base64")))).toBe(true);
    expect(outputs.tables).toEqual([]);
  });

  test("a title's file name keeps letters of any script, drops what a file name can't hold, and is bounded", () => {
    expect(titleFileName("売上 월별 销售")).toBe("売上 월별 销售.png");
    expect(titleFileName("Revenue: Q1/Q2 \"net\"?")).toBe("Revenue_ Q1-Q2 _net__.png");
    expect(titleFileName("a\u0000b\tc\nd\u202ee")).toBe("ab c de.png");
    expect(titleFileName("  ..  ")).toBeUndefined();
    expect(titleFileName(undefined)).toBeUndefined();
    const long = titleFileName("数".repeat(500)) ?? "";
    expect(long.endsWith(".png")).toBe(true);
    expect(Array.from(long).length).toBeLessThanOrEqual(84);
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(200);
  });

  test("a figure left open at the end of the cell comes back without plt.show()", async () => {
    const result = await manager.execute(
      "charts",
      "import pandas as pd, seaborn as sns\ndf = pd.DataFrame({'x': range(10), 'y': [v * v for v in range(10)]})\nax = sns.lineplot(data=df, x='x', y='y')",
    );
    expect(result.images).toHaveLength(1);
    expect(isPng(result.images[0]?.data ?? "")).toBe(true);
    const next = await manager.execute("charts", "print('no figure left over')");
    expect(next.images).toHaveLength(0);
  });

  test("a figure as the last expression is an image, not its repr", async () => {
    const result = await manager.execute("charts", "fig, ax = plt.subplots()\nax.bar(['a', 'b'], [1, 2])\nfig");
    expect(result.images).toHaveLength(1);
    expect(result.result).toBeUndefined();
  });

  test("files written under /mnt/data are listed with size and type, and can be fetched", async () => {
    const result = await manager.execute(
      "files",
      "import pandas as pd, os\nos.makedirs('/mnt/data/out', exist_ok=True)\npd.DataFrame({'a': [1, 2]}).to_csv('/mnt/data/out/table.csv', index=False)\nplt_path = '/mnt/data/chart.png'\nimport matplotlib.pyplot as plt\nplt.plot([1])\nplt.savefig(plt_path)\nplt.close('all')",
    );
    expect(result.status).toBe("ok");
    const byPath = Object.fromEntries(result.files.map((file) => [file.path, file]));
    expect(byPath["/mnt/data/out/table.csv"]).toMatchObject({ size: 6, mime: "text/csv" });
    expect(byPath["/mnt/data/chart.png"]?.mime).toBe("image/png");
    expect((await manager.download("files", "/mnt/data/out/table.csv")).toString()).toBe("a\n1\n2\n");
    const unchanged = await manager.execute("files", "1");
    expect(unchanged.files).toEqual([]);
    const listed = await manager.listFiles("files");
    expect(listed.map((file) => file.path).sort()).toEqual(["/mnt/data/chart.png", "/mnt/data/out/table.csv"]);
  });

  test("a changed file is listed again; an untouched one is not", async () => {
    const result = await manager.execute("files", "open('/mnt/data/out/table.csv', 'a').write('3\\n')");
    expect(result.files.map((file) => file.path)).toEqual(["/mnt/data/out/table.csv"]);
  });

  test("downloads can't leave /mnt/data", async () => {
    await expect(manager.download("files", "../../etc/passwd")).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    await expect(manager.download("files", "nope.txt")).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
  });
});
