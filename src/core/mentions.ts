/**
 * No message of the bot may ping anyone. Slack's special mentions (<!channel>, <!here>,
 * <!everyone>, <!group>, user groups) and the plain @everyone / @here / @channel words (which Slack
 * and Discord turn into pings) are defused with a zero-width space after the @.
 */
const SLACK_SPECIAL = /<!(channel|here|everyone|group)(\|[^>]*)?>|<!subteam\^[A-Z0-9]+(\|([^>]*))?>/gi;
// Markup around the word (`_@here_`, `*@channel*`) still pings: only letters, digits, "." or "@"
// right before it (an e-mail address) or a letter or digit right after it make it not a mention.
const PLAIN = /(^|[^\p{L}\p{N}.@])@(everyone|here|channel)(?![\p{L}\p{N}])/giu;

export function neutralizeMassMentions(text: string): string {
  return text
    .replace(SLACK_SPECIAL, (_match, special: string | undefined, _label, _group, groupLabel: string | undefined) =>
      special ? `@${special}` : `@${groupLabel?.replace(/^@/, "") ?? "group"}`,
    )
    .replace(PLAIN, "$1@\u200b$2");
}

/** A link the Slack converter made from markdown: <https://…|label>. Everything else in <…> is escaped. */
const SLACK_LINK = /<(https?:\/\/[^\s<>|]+)(?:\|([^<>\n]*))?>/g;

/** &, < and > as Slack wants them; entities already escaped are left alone (idempotent). */
function escapeSlack(text: string): string {
  return text.replace(/&(?!(?:amp|lt|gt);)/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * The last pass over an assembled Slack message (mrkdwn), code blocks included: every < > & is
 * escaped except in well-formed http(s) links (the ones the markdown converter made; every part is
 * escaped before assembly), so no <!channel>, <!subteam^…>, <@U…> or <#C…> sequence can reach
 * Slack from any part; then the plain @channel words are defused.
 */
export function slackSafeText(mrkdwn: string): string {
  let out = "";
  let last = 0;
  for (const match of mrkdwn.matchAll(SLACK_LINK)) {
    const label = match[2] === undefined ? "" : `|${escapeSlack(match[2])}`;
    out += `${escapeSlack(mrkdwn.slice(last, match.index))}<${escapeSlack(match[1] ?? "")}${label}>`;
    last = (match.index ?? 0) + match[0].length;
  }
  return neutralizeMassMentions(out + escapeSlack(mrkdwn.slice(last)));
}

/**
 * The last pass over an assembled Discord message, code blocks included: @everyone, @here and
 * user (<@id>, <@!id>) and role (<@&id>) mentions defused. allowed_mentions stays empty as well.
 * Text passed through it twice (a table's cells, then the whole message) is defused once.
 */
export function discordSafeText(markdown: string): string {
  return markdown.replace(/@(everyone|here)/gi, "@\u200b$1").replace(/<@(?!\u200b)/g, "<@\u200b");
}
