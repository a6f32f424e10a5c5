import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { usePipeline } from "../support/pipeline-fixture.js";

const pipeline = usePipeline();
const python = (code: string) => ({ toolCalls: [{ name: "python", arguments: { code } }] });

describe("what an answer carries besides its words, through a worker", () => {
  test("output of code run as written that is longer than the answer shows comes whole as output-1.txt", async () => {
    const out = await mkdtemp(join(tmpdir(), "codebot-long-output-"));
    const code = "for i in range(2000):\n    print(f'line {i:04d}')";
    const run = await pipeline.ask(["--thread", "t-long", "--out", out, `\`\`\`python\n${code}\n\`\`\``]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("The full output is attached as output-1.txt.");
    expect(run.stdout.length).toBeLessThan(5000);
    const saved = await readFile(join(out, "output-1.txt"), "utf8");
    expect(saved).toBe(`# stdout\n${Array.from({ length: 2000 }, (_, i) => `line ${String(i).padStart(4, "0")}`).join("\n")}\n`);
  });

  test("the terminal shows each step's code as it starts and its outcome as it ends; a table's CSV is saved", async () => {
    const out = await mkdtemp(join(tmpdir(), "codebot-steps-"));
    pipeline.llm.script(python("# Count per region\nimport pandas as pd\npd.DataFrame({'region': ['n', 's'], 'count': [3, 4]})"), { content: "North 3, south 4." });
    const run = await pipeline.ask(["--thread", "t-steps", "--out", out, "counts per region?"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("North 3, south 4.");
    expect(run.stderr).toMatch(/── step 1 ──\n# Count per region\nimport pandas as pd/);
    expect(run.stderr).toMatch(/step 1: done · 2 × 2 table/);
    expect(await readdir(out)).toContain("table-1.csv");
    expect(await readFile(join(out, "table-1.csv"), "utf8")).toBe("region,count\nn,3\ns,4\n");
  });
});
