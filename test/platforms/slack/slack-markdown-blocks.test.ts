import type { KnownBlock, MarkdownBlock } from "@slack/web-api";
import { describe, expect, test } from "vitest";
import { displayWidth } from "../../../src/core/table-text.js";
import {
  FALLBACK_TEXT_CHARS,
  MARKDOWN_BLOCK_CHARS,
  MARKDOWN_MESSAGE_CHARS,
  markdownBlocks,
  safeMarkdown,
  splitMarkdown,
} from "../../../src/platforms/slack/slack-markdown-blocks.js";

/** The markdown block's documented fields: type "markdown", text (≤ 12,000), block_id. */
function markdownTexts(blocks: KnownBlock[]): string[] {
  return blocks.map((block) => {
    expect(block.type).toBe("markdown");
    expect(Object.keys(block).every((key) => ["type", "text", "block_id"].includes(key))).toBe(true);
    const { text } = block as MarkdownBlock;
    expect(typeof text).toBe("string");
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThanOrEqual(MARKDOWN_BLOCK_CHARS);
    return text;
  });
}

const fenceLines = (text: string) => text.split("\n").filter((line) => /^\s*```/.test(line));
const fencesBalanced = (text: string) => fenceLines(text).length % 2 === 0 && fenceLines(text).every((line) => /^\s*```$/.test(line));
/** Nothing Slack could read as a token: no "<" directly before !, @, #, or a URL scheme. */
const noSlackTokens = (text: string) => !/<(?=[!@#]|[a-z][a-z0-9+.-]*:)/i.test(text);
const longCode = (lines: number) => Array.from({ length: lines }, (_, i) => `print("line ${i} of a long program")`).join("\n");

describe("answers as markdown blocks", () => {
  test("a short answer is one markdown block with the markdown as Slack renders it", () => {
    const markdown = "## Result\n\nThe mean is **4.2** (_n_ = 10).\n\n> a quote\n\n- one\n- two";
    const { blocks, fallbackText, overflow } = markdownBlocks(markdown);
    expect(blocks).toEqual([{ type: "markdown", text: markdown }]);
    expect(overflow).toBe(false);
    expect(fallbackText).toBe("Result The mean is 4.2 (n = 10). a quote • one • two");
  });

  test("a blank answer has no block", () => {
    expect(markdownBlocks(" \n\n ")).toEqual({ blocks: [], fallbackText: "", overflow: false });
  });

  test("an answer too long for a message is cut at a paragraph, within the cumulative limit, and flagged", () => {
    const paragraphs = Array.from({ length: 40 }, (_, i) => `Paragraph ${i}: ${"words and more words ".repeat(20)}`.trim());
    const { blocks, overflow } = markdownBlocks(paragraphs.join("\n\n"));
    const texts = markdownTexts(blocks);
    expect(overflow).toBe(true);
    expect(texts.join("").length).toBeLessThanOrEqual(MARKDOWN_MESSAGE_CHARS);
    const text = texts.join("\n\n");
    expect(text.endsWith("\n\n…")).toBe(true);
    const kept = text.slice(0, -"\n\n…".length).split("\n\n");
    expect(kept).toEqual(paragraphs.slice(0, kept.length));
    expect(kept.length).toBeGreaterThan(20);
  });

  test("a cut inside a long code block closes the block", () => {
    const { blocks, overflow } = markdownBlocks(`Intro.\n\n\`\`\`python\n${longCode(800)}\n\`\`\`\n\nDone.`);
    const texts = markdownTexts(blocks);
    expect(overflow).toBe(true);
    expect(texts).toHaveLength(1);
    expect(texts[0]?.endsWith('program")\n```\n\n…')).toBe(true);
    expect(fencesBalanced(texts[0] ?? "")).toBe(true);
  });

  test("split into several blocks, a code block is closed and reopened, never broken, and nothing is lost", () => {
    const markdown = `Intro.\n\n\`\`\`python\n${longCode(150)}\n\`\`\`\n\nDone.`;
    const { blocks, overflow } = markdownBlocks(markdown, { message: MARKDOWN_MESSAGE_CHARS, block: 2000 });
    const texts = markdownTexts(blocks);
    expect(overflow).toBe(false);
    expect(texts.length).toBeGreaterThan(2);
    for (const text of texts) {
      expect(text.length).toBeLessThanOrEqual(2000);
      expect(fencesBalanced(text)).toBe(true);
    }
    for (const text of texts.slice(1, -1)) expect(text.startsWith("```\nprint(")).toBe(true);
    const rejoined = texts.join("\n").replace(/\n```\n```\n/g, "\n");
    for (let i = 0; i < 150; i++) expect(rejoined).toContain(`print("line ${i} of a long program")`);
    expect(rejoined.endsWith("```\n\nDone.")).toBe(true);
  });

  test("blocks split at paragraphs first", () => {
    const a = "a".repeat(7000);
    const b = "b".repeat(7000);
    expect(splitMarkdown(`${a}\n\n${b}`, MARKDOWN_BLOCK_CHARS)).toEqual([a, b]);
    expect(splitMarkdown("x".repeat(30_000), MARKDOWN_BLOCK_CHARS).map((piece) => piece.length)).toEqual([11_996, 11_996, 6008]);
  });

  test("hostile lines of brackets, backticks and fences stay fast", () => {
    const started = performance.now();
    const { blocks } = markdownBlocks(`${"[".repeat(20_000)}\n${"`a ".repeat(20_000)}\n${"![x](".repeat(5000)}\n${"```\n".repeat(5000)}`);
    expect(markdownTexts(blocks).join("").length).toBeLessThanOrEqual(MARKDOWN_MESSAGE_CHARS);
    expect(performance.now() - started).toBeLessThan(5000); // quadratic work would take minutes
  });

  test("a single huge line still fits", () => {
    const { blocks, overflow, fallbackText } = markdownBlocks("word ".repeat(20_000));
    expect(overflow).toBe(true);
    expect(markdownTexts(blocks).join("").length).toBeLessThanOrEqual(MARKDOWN_MESSAGE_CHARS);
    expect(fallbackText.length).toBeLessThanOrEqual(FALLBACK_TEXT_CHARS);
  });
});

describe("markdown blocks cannot ping or hide a link", () => {
  test.each([
    ["<!channel> look", "@\u200bchannel look"],
    ["<!here> and <!everyone>", "@\u200bhere and @\u200beveryone"],
    ["@channel @here @everyone", "@\u200bchannel @\u200bhere @\u200beveryone"],
    ["ask <@U024BE7LH>", "ask &lt;@U024BE7LH>"],
    ["join <#C024BE7LR>", "join &lt;#C024BE7LR>"],
    ["<https://evil.example|your bank>", "&lt;https://evil.example|your bank>"],
    ["<<!here>>", "&lt;@\u200bhere>"],
    ["<b>html</b> & <script>", "&lt;b>html&lt;/b> & &lt;script>"],
    ["a < b and c > d", "a &lt; b and c > d"],
    ["escaped \\<x>", "escaped &lt;x>"],
  ])("%j", (markdown, text) => {
    const safe = safeMarkdown(markdown);
    expect(safe).toBe(text);
    expect(noSlackTokens(safe)).toBe(true);
  });

  test("code keeps its comparisons and generics; only a possible token is broken, with a zero-width space", () => {
    const markdown = "```python\nif a < b and c > d:\n    x: List<int> = f'<!here>' + '<@U1>' + '<https://x.org|y>'\n```\nand `<!channel> <@U2> a<b`";
    expect(safeMarkdown(markdown)).toBe(
      "```\nif a < b and c > d:\n    x: List<int> = f'@\u200bhere' + '<\u200b@U1>' + '<\u200bhttps://x.org|y>'\n```\nand `@\u200bchannel <\u200b@U2> a<b`",
    );
  });

  test.each([
    ["[x](https://en.wikipedia.org/wiki/Foo_(bar))", "[x](https://en.wikipedia.org/wiki/Foo_(bar))"],
    ['[docs](https://a.org/p "title")', "[docs](https://a.org/p)"],
    ["[run](javascript:alert(1))", "run"],
    ["[chat](slack://channel?team=T1&id=C1)", "chat"],
    ["[https://bank.com](https://evil.example/x)", "https://bank.com ([https://evil.example/x](https://evil.example/x))"],
    ["[**<!here>**](https://a.org)", "[**@\u200bhere**](https://a.org)"],
    ["![chart](https://a.org/c.png)", "[chart](https://a.org/c.png)"],
    ["![](https://a.org/c_1.png)", "[https://a.org/c\\_1.png](https://a.org/c_1.png)"],
    ["[a](<https://a.org/x)y>)", "[a](https://a.org/x%29y)"],
    ["`[not](javascript:a)` stays code", "`[not](javascript:a)` stays code"],
  ])("link %j", (markdown, text) => expect(safeMarkdown(markdown)).toBe(text));

  test("bidi overrides and control characters are dropped", () => {
    expect(safeMarkdown("file\u202egnp.exe\u0007 done\r\nnext")).toBe("filegnp.exe done\nnext");
  });
});

describe("markdown Slack would not render is rewritten", () => {
  test("fences lose their language tag, ~~~ becomes ```, and a fence inside code cannot close it", () => {
    expect(safeMarkdown("```python\nx = 1\n```")).toBe("```\nx = 1\n```");
    expect(safeMarkdown("~~~\nprint('```')\n~~~")).toBe("```\nprint('`\u200b`\u200b`')\n```");
    expect(safeMarkdown("````md\n```\ninner\n```\n````")).toBe("```\n`\u200b`\u200b`\ninner\n`\u200b`\u200b`\n```");
    expect(safeMarkdown("text\n```js\nunclosed()")).toBe("text\n```\nunclosed()\n```");
    expect(safeMarkdown("1. step\n   ```\n   indented\n   ```")).toBe("1. step\n   ```\n   indented\n   ```");
  });

  test("a pipe table becomes an aligned code block (CJK counted double width)", () => {
    const text = safeMarkdown("Sales:\n\n| city | total |\n|:-----|------:|\n| 東京 | 1,200 |\n| Oslo | 7 |\n| `<!here>` | 3 |\n\nDone.");
    expect(text).toBe(
      "Sales:\n\n```\ncity   total\n-----  -----\n東京   1,200\nOslo       7\n@\u200bhere      3\n```\n\nDone.",
    );
    const rows = text.split("\n").slice(3, 8);
    expect(new Set(rows.map((row) => displayWidth(row))).size).toBe(1);
  });

  test("task lists and rules", () => {
    expect(safeMarkdown("- [ ] todo\n- [x] done\n\n---")).toBe("- ☐ todo\n- ☑ done\n\n──────────");
  });
});

describe("the fallback text", () => {
  test("is plain, short, escaped for mrkdwn, and pings no one", () => {
    const markdown = `# Title\n\n**Bold** and [a link](https://a.org) <@U1> <!channel> @here a<b\n\n\`\`\`\ncode is left out\n\`\`\`\n\n${"more text ".repeat(100)}`;
    const { fallbackText } = markdownBlocks(markdown);
    expect(fallbackText.length).toBeLessThanOrEqual(FALLBACK_TEXT_CHARS);
    expect(fallbackText.startsWith("Title Bold and a link &lt;@U1&gt; @\u200bchannel @\u200bhere a&lt;b more text more text")).toBe(true);
    expect(fallbackText.endsWith("…")).toBe(true);
    expect(fallbackText).not.toContain("code is left out");
  });

  test("an answer that is only code falls back to its first line", () => {
    expect(markdownBlocks("```python\nprint(42)\n```").fallbackText).toBe("print(42)");
  });
});
