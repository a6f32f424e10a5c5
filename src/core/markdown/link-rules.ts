/**
 * What a link written by the model (or quoted from the sandbox) may be, on every surface: a plain
 * http(s) address that can't break out of the markup around it, with a label that doesn't name a
 * different address than where it goes. Shared by the Slack renderers and the markdown pipeline.
 */

/** How long a link's destination may be. */
export const MAX_URL_CHARS = 2000;

/** The destination when it is a plain http(s) URL that cannot break out of a link: no spaces, <, >, |, quotes or controls. */
export function safeHttpUrl(url: string): string | undefined {
  return /^https?:\/\/[^\s<>|"`\\\p{Cc}]+$/iu.test(url) && url.length <= MAX_URL_CHARS ? url : undefined;
}

function hostOf(address: string): string {
  return address.toLowerCase().replace(/^www\./, "");
}

/**
 * True when the label names a web address other than where the link goes ([https://bank.com](https://evil.example)):
 * such a link is shown with its real destination next to the label.
 */
export function labelMisleads(label: string, url: string): boolean {
  let target: string;
  try {
    target = hostOf(new URL(url).hostname);
  } catch {
    return true;
  }
  // The destination itself, written out, names no other address (its path may look like one: c.png).
  const named = label.split(url).join(" ").replace(/[*_~`\\]/g, "").matchAll(/(?:[a-z][a-z0-9+.-]*:\/\/)?((?:[a-z0-9-]+\.)+[a-z][a-z0-9-]*)/gi);
  return [...named].some((match) => hostOf(match[1] ?? "") !== target);
}

/** A link's destination as markdown takes it: parentheses percent-encoded unless they are balanced (Foo_(bar)). */
export function markdownDestination(url: string): string {
  return /^[^()]*(?:\([^()]*\)[^()]*)*$/.test(url) ? url : url.replace(/\(/g, "%28").replace(/\)/g, "%29");
}
