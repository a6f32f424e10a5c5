import { describe, expect, test } from "vitest";
import { executionMarkdown } from "../../src/agent/execution-markdown.js";
import { fencedPython } from "../../src/core/markdown/fenced-code.js";
import { parsePythonArguments, toolOutput } from "../../src/agent/python-tool.js";
import type { ExecutionResult } from "../../src/core/execution-result.js";

const base: ExecutionResult = { status: "ok", stdout: "", stderr: "", files: [], images: [], durationMs: 1, stateLost: false, notes: [] };

describe("a message that is only a fenced python block runs as written", () => {
  test.each([
    ["```python\nprint(1)\n```", "print(1)"],
    ["  ```py\nx = 1\ny = 2\n```  ", "x = 1\ny = 2"],
    ["```\nprint('bare fence')\n```", "print('bare fence')"],
  ])("%j", (text, code) => expect(fencedPython(text)).toBe(code));

  test.each(["please run ```python\nprint(1)\n```", "```python\nprint(1)\n``` and explain", "```js\nconsole.log(1)\n```", "```python\n\n```", "no code"])(
    "%j is a question for the model",
    (text) => expect(fencedPython(text)).toBeUndefined(),
  );
});

describe("what the model reads back", () => {
  test("everything an execution produced, labelled", () => {
    const text = toolOutput(
      { ...base, status: "error", stdout: "out\n", result: "42", error: { name: "KeyError", value: "'a'", traceback: "Traceback...\nKeyError: 'a'" }, images: [{ mime: "image/png", data: "" }], files: [{ path: "/mnt/data/x.csv", size: 3, mime: "text/csv" }], notes: ["restarted"] },
      10_000,
    );
    expect(text).toContain("status: error");
    expect(text).toContain("stdout:\nout");
    expect(text).toContain("result:\n42");
    expect(text).toContain("KeyError: 'a'");
    expect(text).toContain("1 image(s) shown");
    expect(text).toContain("/mnt/data/x.csv (3 bytes)");
    expect(text).toContain("notes: restarted");
  });

  test("long output is cut to the budget, keeping its start and end", () => {
    const text = toolOutput({ ...base, stdout: `START${"x".repeat(50_000)}END` }, 1000);
    expect(text.length).toBeLessThan(1100);
    expect(text).toContain("START");
    expect(text).toContain("END");
    expect(text).toMatch(/characters cut/);
  });

  test("tool arguments: JSON, or raw code from a sloppy model", () => {
    expect(parsePythonArguments('{"code": "print(1)"}')).toBe("print(1)");
    expect(parsePythonArguments("print(2)")).toBe("print(2)");
  });

  test("code run without the model is shown to people as output blocks", () => {
    const markdown = executionMarkdown({ ...base, stdout: "a ``` fence\n", result: "3" });
    expect(markdown).toContain("```\na ``\u200b` fence\n```");
    expect(markdown).toContain("```\n3\n```");
    expect(executionMarkdown(base)).toBe("Done (no output).");
  });
});
