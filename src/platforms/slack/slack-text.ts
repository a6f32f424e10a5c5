/**
 * Cutting Slack mrkdwn to a length without leaving half an entity (&lt;), half a link (<url|…>),
 * half a surrogate pair or an open code block behind. The result is at most max characters.
 */
export function clipMrkdwn(text: string, max: number, suffix = "…"): string {
  if (text.length <= max) return text;
  const closeFence = "\n```";
  let cut = text.slice(0, Math.max(0, max - suffix.length - closeFence.length));
  const amp = cut.lastIndexOf("&");
  if (amp >= 0 && !cut.slice(amp).includes(";")) cut = cut.slice(0, amp);
  const open = cut.lastIndexOf("<");
  if (open > cut.lastIndexOf(">")) cut = cut.slice(0, open);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  cut = cut.trimEnd() + suffix;
  if ((cut.match(/```/g) ?? []).length % 2 === 1) cut += closeFence;
  return cut;
}
