import { createHash, timingSafeEqual } from "node:crypto";

/** Equal in constant time: both sides hashed first, so neither their contents nor their lengths leak through timing. */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The credentials of an `Authorization: Bearer …` header; undefined for any other header (or none). */
export function bearerCredentials(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value = ""] = header.trim().split(/\s+/, 2);
  return /^bearer$/i.test(scheme ?? "") ? value : undefined;
}
