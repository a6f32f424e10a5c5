import { describe, expect, test } from "vitest";
import { useSandboxes } from "../helpers/sandbox-fixture.js";

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
