import { mkdtemp, readFile, readdir, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { writeNewFile } from "../../src/cli/new-file.js";
import { terminalSafe } from "../../src/cli/render-replies.js";

describe("saving into --out never overwrites", () => {
  test("a taken name gets (2), (3)…; the existing files keep their bytes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "codebot-out-"));
    await writeFile(join(dir, "chart-1.png"), "mine");
    expect(await writeNewFile(dir, "chart-1.png", Buffer.from("first"))).toBe(join(dir, "chart-1 (2).png"));
    expect(await writeNewFile(dir, "chart-1.png", Buffer.from("second"))).toBe(join(dir, "chart-1 (3).png"));
    expect(await writeNewFile(dir, "README", Buffer.from("x"))).toBe(join(dir, "README"));
    expect(await writeNewFile(dir, "README", Buffer.from("y"))).toBe(join(dir, "README (2)"));
    expect(await readFile(join(dir, "chart-1.png"), "utf8")).toBe("mine");
    expect(await readFile(join(dir, "chart-1 (3).png"), "utf8")).toBe("second");
  });

  test("a symlink in the folder is not written through", async () => {
    const dir = await mkdtemp(join(tmpdir(), "codebot-out-"));
    const target = join(dir, "elsewhere.txt");
    await writeFile(target, "precious");
    await symlink(target, join(dir, "data.csv"));
    expect(await writeNewFile(dir, "data.csv", Buffer.from("a,b"))).toBe(join(dir, "data (2).csv"));
    expect(await readFile(target, "utf8")).toBe("precious");
    expect((await readdir(dir)).sort()).toEqual(["data (2).csv", "data.csv", "elsewhere.txt"]);
  });

  test("terminal control sequences from the sandbox are dropped, lines and tabs kept", () => {
    expect(terminalSafe("a\u001b]52;c;ZXZpbA==\u0007b\u001b[2J\r\nc\td\u009b")).toBe("a]52;c;ZXZpbA==b[2J\nc\td");
  });
});
