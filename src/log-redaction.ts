import { stdSerializers } from "pino";

/**
 * No credential reaches a log line, wherever it hides: HTTP clients put the request they sent on
 * their errors (Slack's WebClient an axios error whose config holds `Authorization: Bearer xoxb-…`,
 * at some depth), and a server may echo a key back in an error message. Two nets:
 * - every logged object is copied, bounded (depth, keys, nodes), with any header or field named
 *   like a credential (authorization, cookie, x-api-key…) replaced, at any depth; Errors anywhere
 *   in it are serialized as pino would (message, stack, their own fields), then copied the same way;
 * - every finished line has the configured secret values and token-shaped strings (Slack tokens,
 *   Bearer/Bot credentials, sk- keys) masked, message and stack text included.
 */

export const REDACTED = "[redacted]";

/** Keys whose values are credentials, whatever object they are in. */
const SECRET_KEY = /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key|apikey|x-auth-token|x-slack-signature|token|bot_token|app_token|password|client_secret|signing_secret)$/i;
/**
 * Token shapes: Slack bot/user/app tokens, Authorization header values (with a digit in them, so
 * "Basic authentication" stays words), OpenAI-style keys.
 */
const TOKEN_SHAPES = /\bxox[abposr]-[A-Za-z0-9-]{6,}|\bxapp-[A-Za-z0-9-]{6,}|\b(?:Bearer|Bot|Basic)\s+(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{12,}|\bsk-[A-Za-z0-9_-]{12,}/g;

/** How much of a logged object is kept: deeper or further parts are summarised. */
const MAX_DEPTH = 8;
const MAX_KEYS = 100;
const MAX_NODES = 2000;
const MAX_STRING = 20_000;

/** A copy of a logged value within the bounds, credentials replaced (see the module comment). */
export function scrubValue(value: unknown, depth = 0, budget = { nodes: MAX_NODES }, seen = new WeakSet<object>()): unknown {
  if (typeof value === "string") return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (value === null || typeof value !== "object") return typeof value === "function" ? undefined : value;
  if (seen.has(value)) return "[circular]";
  if (depth >= MAX_DEPTH || --budget.nodes < 0) return "[…]";
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  seen.add(value);
  try {
    if (value instanceof Error) return scrubValue(stdSerializers.err(value), depth, budget, seen);
    // Dates, URLs and the like are logged as JSON would write them.
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return scrubValue(toJSON.call(value), depth + 1, budget, seen);
    if (Array.isArray(value)) return value.slice(0, MAX_KEYS).map((item) => scrubValue(item, depth + 1, budget, seen));
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value).slice(0, MAX_KEYS)) copy[key] = SECRET_KEY.test(key) && item !== undefined && item !== null ? REDACTED : scrubValue(item, depth + 1, budget, seen);
    return copy;
  } finally {
    seen.delete(value);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Masks secret values and token-shaped strings in a finished log line (JSON): the values as they
 * are and as JSON would escape them. Secrets shorter than 8 characters are left to the shapes
 * (masking "abc" everywhere would garble every line).
 */
export function lineScrubber(secrets: string[]): (line: string) => string {
  const forms = [...new Set(secrets.filter((secret) => secret.length >= 8).flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1)]))];
  const exact = forms.length ? new RegExp(forms.sort((a, b) => b.length - a.length).map(escapeRegExp).join("|"), "g") : undefined;
  return (line) => {
    const masked = exact ? line.replace(exact, REDACTED) : line;
    return masked.replace(TOKEN_SHAPES, REDACTED);
  };
}
