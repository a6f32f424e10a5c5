import { describe, expect, test } from "vitest";
import { splitMessage } from "../../../src/platforms/discord/discord-text.js";

const fencesBalanced = (chunk: string) => (chunk.match(/^```/gm) ?? []).length % 2 === 0;

describe("splitting answers for Discord", () => {
  test("short text is one message", () => {
    expect(splitMessage("hello")).toEqual(["hello"]);
  });

  test("a 2,500-character answer becomes two messages split at a paragraph", () => {
    const text = `${"a".repeat(1200)}\n\n${"b".repeat(1200)}`;
    const chunks = splitMessage(text);
    expect(chunks).toEqual(["a".repeat(1200), "b".repeat(1200)]);
  });

  test("a long code block is closed and reopened, never left open", () => {
    const code = Array.from({ length: 120 }, (_, i) => `print("line ${i} of a long program")`).join("\n");
    const chunks = splitMessage(`Here is the code:\n\`\`\`python\n${code}\n\`\`\`\nDone.`);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(2000);
      expect(fencesBalanced(chunk)).toBe(true);
    }
    expect(chunks[1]?.startsWith("```python\n")).toBe(true);
    expect(chunks.join("\n")).toContain('print("line 119 of a long program")');
  });

  test("a single unbroken run longer than the limit is cut hard", () => {
    const chunks = splitMessage("x".repeat(4500));
    expect(chunks.map((chunk) => chunk.length)).toEqual([1996, 1996, 508]);
  });
});
