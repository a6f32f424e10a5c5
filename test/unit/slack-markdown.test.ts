import { describe, expect, test } from "vitest";
import { neutralizeMassMentions } from "../../src/core/mentions.js";
import { markdownToMrkdwn } from "../../src/platforms/slack/slack-markdown.js";

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

describe("mass mentions are defused", () => {
  test.each([
    ["<!channel> look", "@\u200bchannel look"],
    ["<!here|here> and <!everyone>", "@\u200bhere and @\u200beveryone"],
    ["ping <!subteam^S0123|@analysts>", "ping @analysts"],
    ["@everyone @here", "@\u200beveryone @\u200bhere"],
    ["mail me@here.com", "mail me@here.com"],
  ])("%j", (text, safe) => expect(neutralizeMassMentions(text)).toBe(safe));
});
