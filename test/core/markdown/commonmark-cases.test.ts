import { describe, expect, test } from "vitest";
import { discordMarkdown } from "../../../src/platforms/discord/discord-text.js";
import { safeMarkdown } from "../../../src/platforms/slack/slack-markdown-blocks.js";
import { markdownToMrkdwn } from "../../../src/platforms/slack/slack-markdown.js";
import { StreamedMarkdown } from "../../../src/platforms/slack/slack-stream-markdown.js";

/**
 * Markdown a line-by-line or regex reader gets wrong, read the CommonMark way by the one pipeline
 * (micromark), for Slack (markdown blocks, the streamed text, mrkdwn) and Discord. The property
 * kept throughout: no link reaches a chat that the link policy didn't see, code stays code.
 */

/** Slack's streamed text, a character at a time: what Slack shows joined. */
function streamed(text: string): string {
  const stream = new StreamedMarkdown();
  let out = "";
  for (let end = 0; end < text.length; end++) out += stream.next(text, end, false);
  return out + stream.next(text, text.length, true) + stream.closing;
}

const ZWSP = "\u200b";

const cases: Array<{ name: string; markdown: string; slack: string; discord: string }> = [
  {
    name: "unequal backtick runs open no code span: the link after them is a link, under the policy",
    markdown: "``[https://bank.example](https://evil.example)`",
    slack: "``https://bank.example ([https://evil.example](https://evil.example))`",
    discord: "``https://bank.example (<https://evil.example>)`",
  },
  {
    name: "a code span of two backticks holds a single one, and stays code",
    markdown: "`` a ` [x](javascript:alert(1)) ``",
    slack: "`` a ` [x](javascript:alert(1)) ``",
    discord: "`` a ` [x](javascript:alert(1)) ``",
  },
  {
    name: "a fence whose info string holds a backtick is no fence: the link under it is prose, under the policy",
    markdown: "```a`b\n[https://bank.example](https://evil.example)\n```",
    // The last line opens a block (left open: closed at the end).
    slack: "```a`b\nhttps://bank.example ([https://evil.example](https://evil.example))\n```\n```",
    discord: "```a`b\nhttps://bank.example (<https://evil.example>)\n```\n```",
  },
  {
    name: "a fence indented by a tab is indented code (four columns), and the link after it is prose",
    markdown: "\t```\n[https://bank.example](https://evil.example)\n\t```",
    slack: `\`\`\`\n\`${ZWSP}\`${ZWSP}\`\n\`\`\`\nhttps://bank.example ([https://evil.example](https://evil.example))\n\t\`\`\``,
    discord: `\`\`\`\n\`${ZWSP}\`${ZWSP}\`\n\`\`\`\nhttps://bank.example (<https://evil.example>)\n\t\`\`\``,
  },
  {
    name: "a code span across lines is code: its link syntax is text, its Slack tokens broken",
    markdown: "`a\n[https://bank.example](https://evil.example) <@U123>\n`",
    slack: `\`a\n[https://bank.example](https://evil.example) <${ZWSP}@U123>\n\``,
    discord: "`a\n[https://bank.example](https://evil.example) <@U123>\n`",
  },
  {
    name: "a link label across lines is a link: its label names another host, so the real one is shown",
    markdown: "[https://bank.example\nsign in](https://evil.example)",
    slack: "https://bank.example\nsign in ([https://evil.example](https://evil.example))",
    discord: "https://bank.example\nsign in (<https://evil.example>)",
  },
];

describe("CommonMark cases a regex reads wrong", () => {
  test.each(cases)("$name", ({ markdown, slack, discord }) => {
    expect(safeMarkdown(markdown)).toBe(slack);
    expect(discordMarkdown(markdown).text).toBe(discord);
    // Streamed a character at a time, Slack gets the same text ("<" as streamed text writes it).
    expect(streamed(markdown)).toBe(slack.replace(/&lt;/g, "<"));
  });

  test("a code span across lines goes out only once it is closed, never as prose first", () => {
    const markdown = "See `a\n[https://bank.example](https://evil.example)\n` now";
    const stream = new StreamedMarkdown();
    expect(stream.next(markdown, markdown.indexOf("\n`"), false)).toBe("See ");
    expect(stream.next(markdown, markdown.length, true)).toBe("`a\n[https://bank.example](https://evil.example)\n` now");
  });

  test("a link whose label goes on to the next line waits for it, then is judged whole", () => {
    const markdown = "[https://bank.example\nsign in](https://evil.example) now";
    const stream = new StreamedMarkdown();
    expect(stream.next(markdown, markdown.indexOf("sign"), false)).toBe("");
    expect(stream.next(markdown, markdown.length, true)).toBe("https://bank.example\nsign in ([https://evil.example](https://evil.example)) now");
  });

  test("mrkdwn: the same readings, as Slack's mrkdwn", () => {
    expect(markdownToMrkdwn("``[https://bank.example](https://evil.example)`")).toBe("``https://bank.example (<https://evil.example>)`");
    expect(markdownToMrkdwn("[https://bank.example\nsign in](https://evil.example)")).toBe("https://bank.example\nsign in (<https://evil.example>)");
    // A code span's line ends are spaces; nothing in it is a link.
    expect(markdownToMrkdwn("`a\n[x](https://evil.example)\n`")).toBe("`a [x](https://evil.example) `");
  });
});
