/**
 * The model's text must never ping a crowd. Slack's special mentions (<!channel>, <!here>,
 * <!everyone>, user groups) and the plain @everyone / @here / @channel words (which Slack and
 * Discord turn into pings) are defused with a zero-width space after the @.
 */
const SLACK_SPECIAL = /<!(channel|here|everyone)(\|[^>]*)?>|<!subteam\^[A-Z0-9]+(\|([^>]*))?>/gi;
const PLAIN = /(^|[^\w.@])@(everyone|here|channel)\b(?![.@-]\w)/gi;

export function neutralizeMassMentions(text: string): string {
  return text
    .replace(SLACK_SPECIAL, (_match, special: string | undefined, _label, _group, groupLabel: string | undefined) =>
      special ? `@${special}` : `@${groupLabel?.replace(/^@/, "") ?? "group"}`,
    )
    .replace(PLAIN, "$1@\u200b$2");
}
