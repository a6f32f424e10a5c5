import { describe, expect, test } from "vitest";
import { safeMarkdown } from "../../../src/platforms/slack/slack-markdown-blocks.js";
import { StreamedMarkdown } from "../../../src/platforms/slack/slack-stream-markdown.js";

/** The text streamed in pieces ending at `cuts` (then the rest, final): what Slack shows joined. */
function streamed(text: string, cuts: number[]): string {
  const stream = new StreamedMarkdown();
  let out = "";
  for (const cut of cuts) out += stream.next(text, cut, false);
  out += stream.next(text, text.length, true);
  return out + stream.closing;
}

const whole = (text: string) => streamed(text, []);
/** Every cut point: the text arriving one character at a time. */
const everyCharacter = (text: string) => streamed(text, Array.from({ length: text.length }, (_, i) => i));

/** A markdown link Slack would make whose label names another host than its target. */
function misleadingLinks(markdown: string): string[] {
  const prose = markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, "").replace(/(`+)[\s\S]*?\1/g, "");
  return [...prose.matchAll(/\[([^\]\n]*)\]\((https?:\/\/[^)\s]+)\)/g)]
    .filter(([, label, url]) => /[a-z0-9-]+\.[a-z]{2,}/i.test(label ?? "") && !(label ?? "").replace(/\\/g, "").includes(new URL(url ?? "").hostname))
    .map(([link]) => link ?? "");
}

describe("streamed Slack text passes the final answer's rules, however it is cut", () => {
  const hostile = [
    "Log in at [https://bank.example/login](https://evil.example/phish) now.",
    "See ![https://bank.example](https://evil.example/img.png) and [docs.python.org](https://docs.python.org/3/).",
    "Run `[https://bank.example](https://evil.example)` in code, then [ok](https://example.com/a_(b)).",
    "Nested [[https://bank.example]](https://evil.example) and [x](javascript:alert(1)) and \\[not](https://evil.example).",
    "```python\nprint('[https://bank.example](https://evil.example)')\n```\nafter [https://bank.example](https://evil.example)",
    "~~~\n<!channel> ``` inside\n~~~\nTell <!here> and <@U0ALICE001> and @everyone.",
    `Long [${"label ".repeat(120)}https://bank.example](https://evil.example/long) end`,
  ];

  test("a misleading label never becomes a link, whether the text comes whole or a character at a time", () => {
    for (const text of hostile) {
      const once = whole(text);
      expect(misleadingLinks(once), text).toEqual([]);
      expect(everyCharacter(text), text).toBe(once);
    }
    expect(whole(hostile[0]!)).toBe("Log in at https://bank.example/login ([https://evil.example/phish](https://evil.example/phish)) now.");
    expect(whole(hostile[2]!)).toContain("`[https://bank.example](https://evil.example)`"); // code stays code
    expect(whole(hostile[2]!)).toContain("[ok](https://example.com/a_(b))");
    expect(whole(hostile[3]!)).toContain("x and"); // javascript: keeps just its label
  });

  test("random cuts of random mixes give the same text as the whole, and what the final answer makes of it, '<' aside", () => {
    const parts = ["[", "]", "(", ")", "![", "`", "``", "\\", "https://bank.example", "https://evil.example/x", " ", "\n", "```\n", "~~~\n", "a", "**", "<!here>", "@channel"];
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 1000; round++) {
      const text = Array.from({ length: 5 + Math.floor(random() * 30) }, () => parts[Math.floor(random() * parts.length)]).join("");
      const cuts = Array.from({ length: 6 }, () => Math.floor(random() * text.length)).sort((a, b) => a - b);
      const once = whole(text);
      expect(streamed(text, cuts), JSON.stringify(text)).toBe(once);
      expect(misleadingLinks(once), JSON.stringify(text)).toEqual([]);
      const final = safeMarkdown(text);
      const comparable = (markdown: string) => markdown.replace(/&lt;|<\u200b?/g, "<").trim();
      if (!/\|/.test(text)) expect(comparable(once), JSON.stringify(text)).toBe(comparable(final));
    }
  });
});
