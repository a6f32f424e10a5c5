import { describe, expect, test } from "vitest";
import { neutralizeMassMentions } from "../../../src/core/mentions.js";
import type { Nodes } from "mdast";
import { visitParents } from "unist-util-visit-parents";
import { labelMisleads, safeHttpUrl } from "../../../src/core/markdown/link-rules.js";
import { parseMarkdown } from "../../../src/core/markdown/markdown-tree.js";
import { markdownToMrkdwn } from "../../../src/platforms/slack/slack-markdown.js";

/** The link the chat pipeline's parser reads starting at `start`: its label as written, its destination, where it ends (was: the hand-written scanner's linkAt). */
function linkAt(text: string, start: number): { label: string; url: string; image: boolean; end: number } | undefined {
  let found: Nodes | undefined;
  visitParents(parseMarkdown(text, "chat") ?? { type: "root", children: [] }, (node) => {
    if ((node.type === "link" || node.type === "image") && node.position?.start.offset === start) found = node;
  });
  if (found?.type !== "link" && found?.type !== "image") return undefined;
  const label = found.type === "image" ? (found.alt ?? "") : text.slice(start + 1, found.children.at(-1)?.position?.end.offset ?? start + 1);
  return { label, url: found.url, image: found.type === "image", end: found.position?.end.offset ?? 0 };
}

describe("markdown to Slack mrkdwn", () => {
  test.each([
    ["**bold** and *italic* and ~~gone~~", "*bold* and _italic_ and ~gone~"],
    ["## Results", "*Results*"],
    ["- one\n- two", "• one\n• two"],
    ["see [the docs](https://example.com/a)", "see <https://example.com/a|the docs>"],
    ["a < b & c > d", "a &lt; b &amp; c &gt; d"],
    ["`**not bold**` stays", "`**not bold**` stays"],
    ["```python\nx = 2 ** 3\n```", "```\nx = 2 ** 3\n```"],
    ["| a | b |\n|---|---|\n| 1 | 2 |", "```\n| a | b |\n| 1 | 2 |\n```"],
  ])("%j", (markdown, mrkdwn) => expect(markdownToMrkdwn(markdown)).toBe(mrkdwn));
});

describe("block quotes become mrkdwn quotes", () => {
  test.each([
    ["> quote", "> quote"],
    ["> one\n> two", "> one\n> two"],
    ["> > nested", "> nested"],
    ["> **bold** in a quote", "> *bold* in a quote"],
    ["> ## heading in a quote", "> *heading in a quote*"],
    ["a > b stays text", "a &gt; b stays text"],
  ])("%j", (markdown, mrkdwn) => expect(markdownToMrkdwn(markdown)).toBe(mrkdwn));
});

describe("emphasis nests the way CommonMark pairs it", () => {
  test.each([
    ["**bold _it_**", "*bold _it_*"],
    ["**bold *it***", "*bold _it_*"],
    ["*it **b** it*", "_it *b* it_"],
    ["***both***", "_*both*_"],
    ["__bold__ and _it_", "*bold* and _it_"],
    ["**use `x` now**", "*use `x` now*"],
    ["x **[link](https://a.com)** y", "x *<https://a.com|link>* y"],
    // Inside a word mrkdwn cannot format: the text stays as written.
    ["snake_case_name and 2*3*4", "snake_case_name and 2*3*4"],
    ["a * b * c", "a * b * c"],
    ["**unclosed", "**unclosed"],
  ])("%j", (markdown, mrkdwn) => expect(markdownToMrkdwn(markdown)).toBe(mrkdwn));
});

describe("links", () => {
  test.each([
    ["[x](https://en.wikipedia.org/wiki/Foo_(bar))", "<https://en.wikipedia.org/wiki/Foo_(bar)|x>"],
    ["[x](https://en.wikipedia.org/wiki/Foo_(bar)) and more (aside)", "<https://en.wikipedia.org/wiki/Foo_(bar)|x> and more (aside)"],
    ['[x](https://a.com/p "a title")', "<https://a.com/p|x>"],
    ["[x](<https://a.com/p>)", "<https://a.com/p|x>"],
    ["![chart](https://a.com/c.png)", "<https://a.com/c.png|chart>"],
    ["[a & b](https://a.com/?x=1&y=2)", "<https://a.com/?x=1&amp;y=2|a &amp; b>"],
    // Only http(s): other schemes keep just their text.
    ["[click](javascript:alert(1))", "click"],
    ["[open](slack://channel?id=C1)", "open"],
    // A label naming another address shows where the link really goes.
    ["[https://bank.com](https://evil.example/x)", "https://bank.com (<https://evil.example/x>)"],
    ["[www.bank.com](https://bank.com/login)", "<https://bank.com/login|www.bank.com>"],
  ])("%j", (markdown, mrkdwn) => expect(markdownToMrkdwn(markdown)).toBe(mrkdwn));

  test("the scanner finds nested brackets and parentheses, and where the link ends", () => {
    const text = "see [a [b]](https://x.org/a_(b)_c) then";
    expect(linkAt(text, 4)).toEqual({ label: "a [b]", url: "https://x.org/a_(b)_c", image: false, end: text.indexOf(" then") });
    expect(linkAt("[a](https://x.org/open(", 0)).toBeUndefined();
    expect(linkAt("[a] (https://x.org)", 0)).toBeUndefined();
  });

  test("the URL policy and the misleading-label check", () => {
    expect(safeHttpUrl("https://a.com/x?y=1")).toBe("https://a.com/x?y=1");
    for (const url of ["javascript:alert(1)", "https://a.com/<!here>", "https://a.com/x|y", "ftp://a.com", "https://a.com/\u0007"]) {
      expect(safeHttpUrl(url)).toBeUndefined();
    }
    expect(labelMisleads("the docs", "https://docs.python.org/3/")).toBe(false);
    expect(labelMisleads("docs.python.org", "https://docs.python.org/3/")).toBe(false);
    expect(labelMisleads("paypal.com", "https://paypal.com.evil.example/")).toBe(true);
  });

  test("hostile lines of brackets and delimiters stay fast", () => {
    const started = performance.now();
    markdownToMrkdwn(`${"[".repeat(20_000)}\n${"*a ".repeat(20_000)}\n${"_a".repeat(20_000)}`);
    expect(performance.now() - started).toBeLessThan(5000); // quadratic work would take minutes
  });
});

describe("mass mentions are defused", () => {
  test.each([
    ["<!channel> look", "@\u200bchannel look"],
    ["<!here|here> and <!everyone>", "@\u200bhere and @\u200beveryone"],
    ["ping <!subteam^S0123|@analysts>", "ping @analysts"],
    ["@everyone @here", "@\u200beveryone @\u200bhere"],
    ["mail me@here.com", "mail me@here.com"],
    // regression: markup around the word still pings (`_` is a word character, so \b missed it)
    ["_@here_ and *@channel* and _<!channel>_", "_@\u200bhere_ and *@\u200bchannel* and _@\u200bchannel_"],
    ["@heres and @channels stay", "@heres and @channels stay"],
  ])("%j", (text, safe) => expect(neutralizeMassMentions(text)).toBe(safe));
});
