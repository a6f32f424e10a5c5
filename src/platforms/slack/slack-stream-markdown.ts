import { MarkdownStream } from "../../core/markdown/streamed-markdown.js";
import { cleanSlackMarkdown, slackMarkdownTarget } from "./slack-markdown-target.js";

/**
 * The answer's text as it streams into Slack (markdown_text): the final answer's markdown-block
 * rendering (slack-markdown-target.ts), a piece at a time, each piece ending where what comes next
 * can't change it (core's MarkdownStream), so the pieces put together are what the final answer's
 * rendering makes of the text, "<" aside: a zero-width space after a "<" that could open a token,
 * as streamed text has always had, where markdown blocks write &lt;.
 */
export class StreamedMarkdown extends MarkdownStream {
  constructor() {
    super(slackMarkdownTarget("break"), cleanSlackMarkdown);
  }
}
