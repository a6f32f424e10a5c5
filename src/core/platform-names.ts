/**
 * The chat platforms codebot knows, by the name requests carry (`conversation.platform`) and
 * ADMIN_USERS / BUDGET_EXEMPT_USERS entries start with. Each has one adapter in
 * src/platforms/registry.ts: the registry's type requires one per name, so the two move together.
 */
export const PLATFORM_NAMES = ["slack", "discord", "local"] as const;

export type Platform = (typeof PLATFORM_NAMES)[number];

/** A `platform:userId` entry (ADMIN_USERS, BUDGET_EXEMPT_USERS) naming a known platform. */
export function isPlatformUser(entry: string): boolean {
  const colon = entry.indexOf(":");
  const id = entry.slice(colon + 1);
  return colon > 0 && (PLATFORM_NAMES as readonly string[]).includes(entry.slice(0, colon)) && id !== "" && !/[\s:]/.test(id);
}
