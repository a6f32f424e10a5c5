/**
 * Where an HTTP source's call may go: only under its base URL. A path from the session is resolved
 * against the base, and refused (with a reason for its author) when it could leave it: an absolute
 * URL or a scheme, a leading `/` or `//host`, `.` or `..` segments (percent-encoded ones too, at any
 * depth of encoding), an encoded `/` or `\`, a `\`, control characters, `?` or `#` (the query comes
 * from params). The resolved URL must still be on the base's origin and under its path: the
 * same check every redirect's target passes before it is followed.
 */

/** Percent-decodings at most while looking for hidden `.`/`..`/`/` (each pass undoes one level). */
const DECODE_PASSES = 4;

function decodedForms(segment: string): string[] | undefined {
  const forms = [segment];
  let current = segment;
  for (let pass = 0; pass < DECODE_PASSES && current.includes("%"); pass++) {
    try {
      current = decodeURIComponent(current);
    } catch {
      return undefined;
    }
    forms.push(current);
  }
  return forms;
}

/** Why a path can't be used under the base (undefined: it can). */
function pathProblem(path: string): string | undefined {
  if (/[\x00-\x1f\x7f]/.test(path)) return "it has control characters";
  if (path.includes("\\")) return "it has a backslash";
  if (/[?#]/.test(path)) return "it has ? or # (pass the query as params)";
  if (path.startsWith("/")) return "it starts with / (paths are relative to the base URL: 'daily.json', not '/daily.json')";
  if (/^[^/]*:/.test(path)) return "it is an absolute URL, or its first segment has a ':'";
  for (const segment of path.split("/")) {
    const forms = decodedForms(segment);
    if (!forms) return "it has a malformed %-escape";
    if (forms.some((form) => form === "." || form === "..")) return "it has a . or .. segment";
    if (forms.slice(1).some((form) => /[/\\?#\x00-\x1f]/.test(form) || form.includes("%00"))) return "it has an encoded /, \\, ?, # or control character";
  }
  return undefined;
}

/** Whether url is on base's origin and under its path (base's path ends with /). */
export function isUnder(url: URL, base: URL): boolean {
  if (url.origin !== base.origin || url.username || url.password) return false;
  if (!url.pathname.startsWith(base.pathname)) return false;
  return url.pathname.slice(base.pathname.length).split("/").every((segment) => {
    const forms = decodedForms(segment);
    return forms !== undefined && !forms.some((form) => form === "." || form === "..") && !forms.slice(1).some((form) => /[/\\]/.test(form));
  });
}

export type QueryValue = string | number | boolean | null;

/** The URL for path and query under base, or the reason it is refused. */
export function resolveUnder(base: URL, path: string, query: Record<string, QueryValue | QueryValue[]>): { url: URL } | { refused: string } {
  const problem = pathProblem(path);
  if (problem) return { refused: problem };
  const url = new URL(path, base);
  if (!isUnder(url, base)) return { refused: "it leads outside the source's base URL" };
  for (const [key, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== null) url.searchParams.append(key, String(item));
    }
  }
  return { url };
}
