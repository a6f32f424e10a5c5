import { describe, expect, test } from "vitest";
import { executionMarkdown } from "../../src/agent/execution-markdown.js";
import { clipText, displayName, displayNote, inlineCode, summarizeList } from "../../src/core/display-text.js";
import type { ExecutionResult } from "../../src/core/execution-result.js";
import { discordSafeText, slackSafeText } from "../../src/core/mentions.js";
import { markdownToMrkdwn } from "../../src/platforms/slack/slack-markdown.js";
import { newestAttachments } from "../../src/platforms/slack/slack-request.js";
import { clipMrkdwn } from "../../src/platforms/slack/slack-text.js";
import { slackFileHost } from "../../src/platforms/slack/slack-attachments.js";

const SLACK_PINGS = "<!channel> <!here> <!everyone> <!group> <!subteam^S0123|@analysts> <@U0ALICE001> <@W0BOB0001> <#C0GENERAL> @everyone @here @channel";
const DISCORD_PINGS = "@everyone @here <@123456789012345678> <@!123456789012345678> <@&123456789012345678>";
const PHISHING = "# Admin notice\n[Re-enter your password](http://evil.example/login) **urgent** <!channel>";

const result = (extra: Partial<ExecutionResult>): ExecutionResult => ({ status: "ok", stdout: "", stderr: "", files: [], images: [], durationMs: 1, stateLost: false, notes: [], ...extra });

/** Whether position i of a markdown text is inside a ``` block. */
const insideFence = (text: string, i: number) => (text.slice(0, i).match(/```/g) ?? []).length % 2 === 1;

describe("Slack's final pass", () => {
  test("no special mention, user mention or channel link survives, in prose or code", () => {
    const mrkdwn = markdownToMrkdwn(`${SLACK_PINGS}\n\`${SLACK_PINGS}\`\n\`\`\`\n${SLACK_PINGS}\n\`\`\`\n| ${SLACK_PINGS} |\n|---|`);
    const text = slackSafeText(mrkdwn);
    expect(text).not.toContain("<");
    expect(text).not.toContain(">");
    expect(text).not.toMatch(/(^|[^\u200b])@(everyone|here|channel)\b/m);
    expect(text).toContain("&lt;@U0ALICE001&gt;");
  });

  test("raw text that skipped the converter is escaped as well; the converter's links stay links", () => {
    const text = slackSafeText(`${markdownToMrkdwn("see [the docs](https://example.com/a?b=1&c=2)")} <!channel> <https://evil.example|<!here>> <!date^1|x> a & b &amp; c @here`);
    expect(text).toBe("see <https://example.com/a?b=1&amp;c=2|the docs> &lt;!channel&gt; &lt;https://evil.example|&lt;!here&gt;&gt; &lt;!date^1|x&gt; a &amp; b &amp; c @\u200bhere");
  });

  test("it is idempotent", () => {
    const once = slackSafeText(markdownToMrkdwn(SLACK_PINGS));
    expect(slackSafeText(once)).toBe(once);
  });

  test("clipping never leaves half an entity, half a link or an open code block", () => {
    const text = `intro <https://example.com|a link> &lt;&lt;&lt;\n\`\`\`\n${"x &amp; y\n".repeat(50)}\`\`\``;
    for (let max = 10; max < 120; max++) {
      const clipped = clipMrkdwn(text, max);
      expect(clipped.length).toBeLessThanOrEqual(max);
      expect(clipped).not.toMatch(/&[a-z]{0,3}…|<[^>]*…/);
      expect((clipped.match(/```/g) ?? []).length % 2).toBe(0);
    }
  });
});

describe("Discord's final pass", () => {
  test("@everyone, @here, user and role mentions are defused, in code blocks too", () => {
    const text = discordSafeText(`${DISCORD_PINGS}\n\`\`\`\n${DISCORD_PINGS}\n\`\`\``);
    expect(text).not.toMatch(/@(everyone|here)|<@!?&?\d/);
    expect(text).toContain("<@\u200b&123456789012345678>");
  });
});

describe("an execution shown to people", () => {
  test("an exception's message is text in a code block: no heading, link, bold or mention", () => {
    const markdown = executionMarkdown(
      result({ status: "error", error: { name: "ValueError", value: PHISHING, traceback: `Traceback (most recent call last):\n  File "<cell>", line 1\nValueError: ${PHISHING}\n` } }),
    );
    for (const needle of ["# Admin notice", "[Re-enter your password](http://evil.example/login)", "**urgent**"]) {
      expect(insideFence(markdown, markdown.indexOf(needle))).toBe(true);
    }
    const slack = slackSafeText(markdownToMrkdwn(markdown));
    expect(slack).not.toContain("<http");
    expect(slack).not.toContain("*Admin notice*");
    expect(slack).toContain("# Admin notice");
  });

  test("an error class with a hostile name stays in the code block too", () => {
    const markdown = executionMarkdown(result({ status: "error", error: { name: "# Boss", value: "[x](http://evil.example)", traceback: "" } }));
    expect(insideFence(markdown, markdown.indexOf("# Boss"))).toBe(true);
  });

  test("a note with markup is inline code; a plain note stays italic", () => {
    const markdown = executionMarkdown(result({ notes: ["Output was cut at 100,000 characters.", "[click](http://evil.example)\n# admin <!channel>"] }));
    expect(markdown).toContain("_Output was cut at 100,000 characters._");
    expect(markdown).toContain("`[click](http://evil.example) # admin <!channel>`");
  });
});

describe("display text", () => {
  test("names are one clipped line without controls or direction overrides", () => {
    expect(displayName("a\nb\r\nc\u202egnp.exe\u0007")).toBe("a b c?gnp.exe?");
    expect(displayName("x".repeat(300))).toHaveLength(100);
    expect(displayName("x".repeat(300)).endsWith("…")).toBe(true);
    expect(clipText("😀".repeat(10), 6)).toBe("😀😀…");
    expect(inlineCode("a`b")).toBe("`a\u02cbb`");
  });

  test("a long note keeps its reason and loses part of the name", () => {
    const note = displayNote(`${"n".repeat(300)}\n.csv (at most 10 files are sent per answer)`, 120);
    expect(note).toHaveLength(120);
    expect(note.endsWith("n… (at most 10 files are sent per answer)")).toBe(true);
  });

  test("long lists are summarised", () => {
    const list = Array.from({ length: 2000 }, (_, i) => `file-${i}`);
    const shown = summarizeList(list);
    expect(shown).toHaveLength(21);
    expect(shown.at(-1)).toBe("and 1,980 more");
    expect(summarizeList(list.slice(0, 20))).toEqual(list.slice(0, 20));
  });
});

describe("the hosts that may see the Slack bot token", () => {
  const allowed = slackFileHost("http://127.0.0.1:4555/api/");
  test.each([
    ["https://files.slack.com/files-pri/T1-F1/download/a.csv", true],
    ["https://slack.com/x", true],
    ["https://a.slack-edge.com/x", true],
    ["http://127.0.0.1:4555/files-pri/x", true],
    ["http://files.slack.com/x", false],
    ["https://files.slack.com.evil.example/x", false],
    ["https://evilslack.com/x", false],
    ["https://evil.example/files.slack.com", false],
    ["https://user:pw@files.slack.com/x", false],
    ["http://127.0.0.1:4556/files-pri/x", false],
  ])("%s → %s", (url, expected) => expect(allowed(new URL(url))).toBe(expected));

  test("GovSlack: SLACK_API_URL's https subdomains are its file hosts", () => {
    expect(slackFileHost("https://slack-gov.com/api/")(new URL("https://files.slack-gov.com/a"))).toBe(true);
  });
});

describe("a Slack thread with more than 20 files", () => {
  const file = (i: number) => ({ id: `F${i}`, name: `f${String(i).padStart(2, "0")}.csv`, url_private_download: `https://files.slack.com/${i}` });
  test("the newest 20 are taken, in order, and the rest counted", () => {
    const { attachments, leftOut } = newestAttachments({ files: [file(99)], earlierFiles: Array.from({ length: 25 }, (_, i) => file(i + 1)) });
    expect(leftOut).toBe(6);
    expect(attachments.map((attachment) => attachment.name)).toEqual(["f99.csv", ...Array.from({ length: 19 }, (_, i) => `f${String(i + 7).padStart(2, "0")}.csv`)]);
  });

  test("a file both in the message and earlier counts once", () => {
    const { attachments, leftOut } = newestAttachments({ files: [file(1)], earlierFiles: [file(1), file(2)] });
    expect(attachments).toHaveLength(2);
    expect(leftOut).toBe(0);
  });
});
