/**
 * Text the sandbox or a file name controls, made fit to show: one line, no control or direction-
 * changing characters, a bounded length; long lists summarised ("and 1,990 more").
 */
export const MAX_NAME_CHARS = 100;
export const MAX_LIST_ENTRIES = 20;

/** C0/C1 controls, line and paragraph separators, bidi overrides and isolates, zero-width marks. */
const UNSAFE_CHARS = /[\p{Cc}\p{Zl}\p{Zp}\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/gu;

/** Cuts text to max characters (whole code points), marking the cut with "…". */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  const points = Array.from(text.slice(0, max));
  if (points.join("").length > max - 1) points.pop();
  return `${points.join("")}…`;
}

/** A name (file name, path, note) as one clipped line: controls shown as "?", nothing invisible. */
export function displayName(name: string, max = MAX_NAME_CHARS): string {
  return clipText(name.replace(/\r\n|[\r\n\t]/g, " ").replace(UNSAFE_CHARS, "?"), max);
}

/** A "name (why)" note as one clipped line; the name is cut first, so the reason stays readable. */
export function displayNote(note: string, max = 2 * MAX_NAME_CHARS): string {
  const line = displayName(note, Number.MAX_SAFE_INTEGER);
  const reason = / \([^()]{1,120}\)$/.exec(line)?.[0] ?? "";
  return `${displayName(line.slice(0, line.length - reason.length), Math.max(20, max - reason.length))}${reason}`;
}

/** The same, as inline code: shown as text on every platform (no link, no emphasis, no heading). */
export function inlineCode(text: string, max = MAX_NAME_CHARS): string {
  return `\`${displayName(text, max).replace(/`/g, "\u02cb")}\``;
}

export function formatCount(count: number): string {
  return count.toLocaleString("en-US");
}

/** At most max entries, then "and 1,990 more" as the last one. */
export function summarizeList(items: readonly string[], max = MAX_LIST_ENTRIES): string[] {
  if (items.length <= max) return [...items];
  return [...items.slice(0, max), `and ${formatCount(items.length - max)} more`];
}
