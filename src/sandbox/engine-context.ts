import type { Logger } from "../log.js";
import type { OpenSessions } from "./open-sessions.js";
import type { SandboxLimits } from "./sandbox-limits.js";
import type { SandboxProvider } from "./sandbox-provider.js";
import type { SessionEvents } from "./session-events.js";
import type { SessionHooks, SessionPlacement } from "./session-hooks.js";
import type { SessionNaming } from "./session-naming.js";
import type { SessionSlots } from "./session-slots.js";

/** What opening and putting to sleep an engine's sessions share with its SandboxManager. */
export interface EngineContext {
  provider: SandboxProvider;
  naming: SessionNaming;
  limits: SandboxLimits;
  slots: SessionSlots;
  open: OpenSessions;
  hooks?: SessionHooks;
  placement?: SessionPlacement;
  events?: SessionEvents;
  /** How long `hooks.sleep` may take before an evicted session is removed anyway. */
  evictTimeoutMs?: number;
  /** The engine's name in a fleet; none with one engine. */
  host?: string;
  log: Logger;
  /** Tops the warm pool up once the session that just claimed a member has had its start (pool-upkeep.ts). */
  refillPool(): void;
  /** Whether the engine is drained now (nothing starts on it, sessions sleep as soon as unused). */
  draining(): boolean;
}

/** Removes a session's sandbox and detaches from it in this process (the next use opens it again); false if there was none. Its slot is the caller's business. */
export function removeSession(context: EngineContext, name: string): Promise<boolean> {
  context.open.drop(name)();
  return context.provider.remove(name);
}
