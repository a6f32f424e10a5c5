import { describe, expect, test } from "vitest";
import { terminalMarkdown } from "../../../src/cli/terminal-markdown.js";
import { MAX_CHAT_MARKDOWN_CHARS } from "../../../src/core/markdown/chat-markdown.js";
import { fencedPython } from "../../../src/core/markdown/fenced-code.js";
import { splitMarkdown } from "../../../src/core/markdown/markdown-split.js";
import { parseMarkdown } from "../../../src/core/markdown/markdown-tree.js";
import { discordMarkdown, splitMessage } from "../../../src/platforms/discord/discord-text.js";
import { markdownBlocks, safeMarkdown } from "../../../src/platforms/slack/slack-markdown-blocks.js";
import { StreamedMarkdown } from "../../../src/platforms/slack/slack-stream-markdown.js";

const ZWSP = "\u200b";

/** Slack's streamed text in pieces ending at every `step` characters, then the rest. */
function streamed(text: string, step: number): string {
  const stream = new StreamedMarkdown();
  let out = "";
  for (let end = step; end < text.length; end += step) out += stream.next(text, end, false);
  return out + stream.next(text, text.length, true) + stream.closing;
}

const ANSWER = [
  "## Sales by region",
  "The north led; see [the report](https://example.com/q3) and ![the chart](https://example.com/c.png).",
  "| region | units |\n|:--|--:|\n| north | 40 |\n| south | 5 |",
  "- [x] cleaned the data\n- [ ] check `df.groupby(\"region\")`\n  ```python\n  print(df.units.sum())\n  ```",
  "> Quoted <@U1> and [https://bank.example](https://evil.example/login).",
  "---",
  "~~~\nraw ``` fence\n~~~",
].join("\n\n");

describe("one pipeline, a rendering per target", () => {
  test("Slack: the answer as the model wrote it, made safe, tables aligned, boxes and rules drawn", () => {
    expect(safeMarkdown(ANSWER)).toBe(
      [
        "## Sales by region",
        "The north led; see [the report](https://example.com/q3) and [the chart](https://example.com/c.png).",
        "```\nregion  units\n------  -----\nnorth      40\nsouth       5\n```",
        "- ☑ cleaned the data\n- ☐ check `df.groupby(\"region\")`\n  ```\n  print(df.units.sum())\n  ```",
        "> Quoted &lt;@U1> and https://bank.example ([https://evil.example/login](https://evil.example/login)).",
        "──────────",
        `\`\`\`\nraw \`${ZWSP}\`${ZWSP}\` fence\n\`\`\``,
      ].join("\n\n"),
    );
  });

  test("Slack, streamed in pieces of any size: the same text ('<' as streamed text writes it)", () => {
    const final = safeMarkdown(ANSWER).replace(/&lt;/g, "<");
    for (const step of [1, 7, 64, 500]) expect(streamed(ANSWER, step).replace(/<\u200b/g, "<").trim(), `pieces of ${step}`).toBe(final);
  });

  test("Discord: links under the policy, tables aligned, fences with their language, ~~~ as ```", () => {
    expect(discordMarkdown(ANSWER).text).toBe(
      [
        "## Sales by region",
        "The north led; see [the report](https://example.com/q3) and [the chart](https://example.com/c.png).",
        "```\nregion  units\n------  -----\nnorth      40\nsouth       5\n```",
        "- [x] cleaned the data\n- [ ] check `df.groupby(\"region\")`\n  ```python\n  print(df.units.sum())\n  ```",
        "> Quoted <@U1> and https://bank.example (<https://evil.example/login>).",
        "---",
        `\`\`\`\nraw \`${ZWSP}\`${ZWSP}\` fence\n\`\`\``,
      ].join("\n\n"),
    );
    expect(discordMarkdown("[run](javascript:alert(1)) and    indented").text).toBe("run and    indented");
    expect(discordMarkdown("para\n\n    x = 1\n    y = 2").text).toBe("para\n\n```\nx = 1\ny = 2\n```");
  });

  test("the terminal: as written, but for the link policy and aligned tables", () => {
    expect(terminalMarkdown("[https://bank.example](https://evil.example) and `code`\n\n| a | b |\n|---|---|\n| 1 | 22 |")).toBe(
      "https://bank.example (https://evil.example) and `code`\n\n```\na  b \n-  --\n1  22\n```",
    );
  });
});

describe("splitting", () => {
  test("a block in a quote is closed and reopened with its quote marker; Discord keeps the language", () => {
    const code = Array.from({ length: 200 }, (_, i) => `> print("line ${i} of a long program")`).join("\n");
    const pieces = splitMarkdown(`Intro.\n\n> \`\`\`python\n${code}\n> \`\`\``, 2000);
    expect(pieces.length).toBeGreaterThan(2);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(2000);
    for (const piece of pieces.slice(1)) expect(piece.startsWith("> ```python\n")).toBe(true);
    for (const piece of pieces.slice(0, -1)) expect(piece.endsWith("\n> ```")).toBe(true);
    const rejoined = pieces.map((piece, i) => (i ? piece.slice("> ```python\n".length) : piece)).map((piece, i, all) => (i < all.length - 1 ? piece.slice(0, -"\n> ```".length) : piece));
    expect(rejoined.join("\n")).toContain('print("line 199 of a long program")');
  });

  test("Discord: a split never ends inside a code block's opening line, and every message holds whole blocks", () => {
    const chunks = splitMessage(`${"word ".repeat(396)}\n\`\`\`js\n${"x();\n".repeat(500)}\`\`\``);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(2000);
      expect((chunk.match(/^```/gm) ?? []).length % 2).toBe(0);
    }
    expect(chunks[0]).not.toMatch(/```js$/);
  });
});

describe("bounds", () => {
  test("an answer past the chat budget is rendered up to it and flagged, so the delivery attaches it", () => {
    const paragraph = `${"words and more words ".repeat(10)}\n\n`;
    const answer = paragraph.repeat(Math.ceil((MAX_CHAT_MARKDOWN_CHARS + 1000) / paragraph.length));
    expect(markdownBlocks(answer).overflow).toBe(true);
    expect(discordMarkdown(answer).cut).toBe(true);
    expect(discordMarkdown(answer).text.length).toBeLessThanOrEqual(MAX_CHAT_MARKDOWN_CHARS);
  });

  test("text nested past reading (containers on one line) is refused before parsing and shown defused", () => {
    const deep = `${"- > ".repeat(3000)}[https://bank.example](https://evil.example) <@U1>`;
    expect(parseMarkdown(deep, "chat")).toBeUndefined();
    const slack = safeMarkdown(deep);
    expect(slack).not.toContain("](");
    expect(slack).not.toMatch(/<(?=@)/);
    expect(discordMarkdown(deep).text).not.toContain("](");
  });

  test("a deep line inside a fenced block is code, and read; a fence a list item or an HTML block may hold is not trusted", () => {
    const deep = `${"- ".repeat(3000)}x`;
    const typesOf = (markdown: string) => parseMarkdown(markdown)?.children.map((node) => node.type);
    expect(typesOf(`\`\`\`\n${">".repeat(5000)} <img src=x>\n\`\`\`\n\nafter`)).toEqual(["code", "paragraph"]);
    expect(typesOf(`~~~~\n${deep}\n~~~~`)).toEqual(["code"]);
    // The list item holds the fence, the deep line ends both: it is refused, never parsed.
    expect(typesOf(`- a\n  \`\`\`\n${deep}\n${"a\n".repeat(100)}`)).toBeUndefined();
    expect(typesOf(`<pre>\n\`\`\`\n</pre>\n${deep}`)).toBeUndefined();
    expect(typesOf(`\`\`\`\ncode\n\`\`\`\n${deep}`)).toBeUndefined();
  });
});

describe("fenced Python, by CommonMark's fence rules", () => {
  test.each([
    ["~~~python\nprint(1)\n~~~", "print(1)"],
    ["   ```py\n   x = 1\n     y = 2\n   ```", "x = 1\n  y = 2"],
    ["```Python\nprint(2)\n````", "print(2)"],
    // Closed right after the code, as Slack's and Discord's composers write it (and as runs as written always took it).
    ["```python\nprint(3)```", "print(3)"],
    ["```\nx = 1\nprint(x) ```  ", "x = 1\nprint(x) "],
  ])("%j runs as written", (text, code) => expect(fencedPython(text)).toBe(code));

  test.each(["```python\na = 1\n```\n```python\nb = 2\n```", "    ```python\n    print(1)\n    ```", "```python\nprint(1)\n~~~", "``` python`\nx\n```", "```python\nprint(1)~~~", "```python\nprint(1)``"])("%j is a question for the model", (text) =>
    expect(fencedPython(text)).toBeUndefined(),
  );
});
