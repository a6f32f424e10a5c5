import { neutralizeMassMentions } from "../../core/mentions.js";

/**
 * Markdown as Slack's markdown surfaces (the markdown block, streamed markdown_text) get it: mass
 * mentions defused, and Slack's own `<@U…>`, `<!here>`, `<#C…>` and `<url|text>` sequences broken
 * with a zero-width space, so text of the model or the sandbox can't ping or disguise a link.
 */
export function slackMarkdownSafe(markdown: string): string {
  return neutralizeMassMentions(markdown).replace(/<(?=[@!#^]|https?:|mailto:)/gi, "<\u200b");
}
