import pTimeout from "p-timeout";
import { removeSession, type EngineContext } from "./engine-context.js";
import { LIVE_READY_TIMEOUT_MS, READY_TIMEOUT_MS, SandboxSession } from "./sandbox-session.js";
import type { HibernateHow } from "./session-backend.js";

const EVICT_TIMEOUT_MS = 180_000;

/**
 * Puts an idle session to sleep: marks it (so no turn uses it meanwhile), lets `save` take what
 * it must from it, then removes its sandbox, gives up its place in a fleet and frees its slot.
 * False when the session is in use, not idle for idleMs, not running, or being hibernated
 * elsewhere; nothing is changed then. When save fails the session keeps running (and the error is thrown).
 */
export async function hibernateSession(context: EngineContext, sessionId: string, how: HibernateHow, save: (session: SandboxSession) => Promise<void>): Promise<boolean> {
  const { onlyIfDraining = false, evicted = false } = how;
  if (onlyIfDraining && !context.draining()) return false;
  // A drained engine's sessions don't wait for their idle timeout.
  const idleMs = context.draining() ? 0 : (how.idleMs ?? 0);
  const { naming, provider, slots, events, host } = context;
  const name = naming.sessionName(sessionId);
  if (!(await provider.findRunning(name))) return false;
  // An evicted session's slot was taken already (as it was idle); any other must be idle and unused now.
  if (!evicted && !(await slots.startHibernation(name, idleMs, READY_TIMEOUT_MS))) return false;
  try {
    const session = await attachRunning(context, sessionId, name);
    if (session) await save(session);
    await removeSession(context, name);
    await context.placement?.release(sessionId);
  } finally {
    await slots.endHibernation(name);
  }
  events?.onHibernated?.({ sessionId, host, evicted });
  events?.onSessionEnded?.({ sessionId, host, reason: "hibernated" });
  return true;
}

/**
 * Ends a session whose slot was taken for a new one: it sleeps through the hooks (its variables
 * saved) within the evict timeout, else its sandbox is removed.
 */
export async function evictSession(context: EngineContext, name: string): Promise<void> {
  const { hooks, events, host, log } = context;
  const sessionId = context.naming.sessionIdFromName(name);
  let slept = false;
  if (hooks && sessionId !== undefined) {
    const sleeping = hibernateSession(context, sessionId, { evicted: true }, (session) => hooks.sleep(sessionId, session));
    slept = await pTimeout(sleeping, { milliseconds: context.evictTimeoutMs ?? EVICT_TIMEOUT_MS }).catch((error: unknown) => {
      log.warn({ err: error, sessionId }, "could not put a session to sleep to make room; it is ended");
      return false;
    });
  }
  if (!slept) await removeSession(context, name);
  events?.onEvicted?.({ sessionId, host, hibernated: slept });
  if (!slept && sessionId !== undefined) events?.onSessionEnded?.({ sessionId, host, reason: "evicted" });
}

/** The running session, attached to but never started afresh (a session that died stays gone). */
async function attachRunning(context: EngineContext, sessionId: string, name: string): Promise<SandboxSession | undefined> {
  const cached = await context.open.cached(sessionId);
  if (cached) return cached;
  const sandbox = await context.provider.findRunning(name);
  if (!sandbox) return undefined;
  return SandboxSession.open(sessionId, sandbox, context.limits, context.log.child({ sessionId }), undefined, LIVE_READY_TIMEOUT_MS).catch(() => undefined);
}
