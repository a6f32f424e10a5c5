import { mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { usePipeline } from "../support/pipeline-fixture.js";

const pipeline = usePipeline();

describe("codebot ask --out", () => {
  test("never overwrites a file already in the folder: a new name is picked", async () => {
    const out = await mkdtemp(join(tmpdir(), "codebot-ask-out-"));
    await writeFile(join(out, "chart-1.png"), "my own chart");
    await writeFile(join(out, "report.csv"), "my own report");
    const code = "```python\nimport matplotlib.pyplot as plt\nplt.plot([1, 2, 3]); plt.show()\nopen('/mnt/data/report.csv', 'w').write('a,b\\n1,2\\n')\n```";
    const first = await pipeline.ask(["--thread", "t-out", "--out", out, code]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`saved ${join(out, "chart-1 (2).png")}`);
    expect(first.stderr).toContain(`saved ${join(out, "report (2).csv")}`);
    const second = await pipeline.ask(["--thread", "t-out", "--out", out, code]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`saved ${join(out, "chart-1 (3).png")}`);
    expect(await readFile(join(out, "chart-1.png"), "utf8")).toBe("my own chart");
    expect(await readFile(join(out, "report.csv"), "utf8")).toBe("my own report");
    expect((await readFile(join(out, "chart-1 (2).png")).then((png) => png.subarray(0, 8).toString("hex")))).toBe("89504e470d0a1a0a");
    expect(await readFile(join(out, "report (3).csv"), "utf8")).toBe("a,b\n1,2\n");
    expect((await readdir(out)).sort()).toEqual(["chart-1 (2).png", "chart-1 (3).png", "chart-1.png", "report (2).csv", "report (3).csv", "report.csv"]);
  });
});
