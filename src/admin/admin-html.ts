/*
 * HTML for the admin page, escaped by construction: the `html` tag escapes every value put into a
 * template (session ids, user ids and failure messages come from users), unless it is HTML the tag
 * made itself. Text and attribute values alike: quotes are escaped too.
 */

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

/** HTML made by the `html` tag: put into another template as is. */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** What a template takes: HTML it made, text (escaped), numbers, nothing (false, null, undefined), or lists of these. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(render).join("");
  if (value === undefined || value === null || value === false || value === true) return "";
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  return new SafeHtml(strings.reduce((out, text, i) => out + text + (i < values.length ? render(values[i]!) : ""), ""));
}

/** A whole page: the admin stylesheet, the navigation, no script. */
export function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title}</title>
<link rel="stylesheet" href="/admin/admin.css">
</head>
<body>
<header><strong>codebot admin</strong><nav><a href="/admin">Overview</a><a href="/admin/queue">Queue board</a></nav></header>
<main>
${body}
</main>
</body>
</html>
`.text;
}

/** A table with a header row; `empty` is shown in one cell when there are no rows. */
export function table(headers: string[], rows: SafeHtml[], empty: string): SafeHtml {
  const body = rows.length ? rows : [html`<tr><td class="empty" colspan="${headers.length}">${empty}</td></tr>`];
  return html`<table><thead><tr>${headers.map((header) => html`<th>${header}</th>`)}</tr></thead><tbody>${body}</tbody></table>`;
}

/** A time as "3 min ago", the exact UTC time in its tooltip; "-" for none. */
export function ago(iso: string | number | undefined, now = Date.now()): SafeHtml {
  if (iso === undefined || iso === "") return html`-`;
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return html`-`;
  const seconds = Math.round((now - at.getTime()) / 1000);
  const span = Math.abs(seconds);
  const amount = span < 60 ? `${span} s` : span < 3600 ? `${Math.round(span / 60)} min` : span < 172_800 ? `${Math.round(span / 3600)} h` : `${Math.round(span / 86_400)} days`;
  const exact = at.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  return html`<time datetime="${at.toISOString()}" title="${exact}">${seconds >= 0 ? `${amount} ago` : `in ${amount}`}</time>`;
}

/** A count with thousands separators. */
export const count = (value: number) => Math.round(value).toLocaleString("en-US");

/** Execution seconds: hundredths while they are few. */
export const seconds = (value: number) => (value === 0 ? "0 s" : value < 10 ? `${value.toFixed(2)} s` : value < 100 ? `${value.toFixed(1)} s` : `${count(value)} s`);
