import { removeSession, type EngineContext } from "./engine-context.js";
import { SandboxError } from "./sandbox-error.js";
import type { SandboxHandle } from "./sandbox-handle.js";
import { LIVE_READY_TIMEOUT_MS, READY_TIMEOUT_MS, SandboxSession } from "./sandbox-session.js";

const NAME_CONFLICT_RETRIES = 20;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Attaches to the session's running sandbox, or starts one: from the warm pool if it has a member,
 * else cold. A fresh sandbox is prepared (the hooks put the thread's workspace back) before it is
 * used. Its slot is reserved before anything starts, and given back if the start fails; another
 * process starting the same session at once is attached to, not raced.
 */
export async function openSession(context: EngineContext, sessionId: string, owner: string | undefined): Promise<SandboxSession> {
  const { provider, naming, limits, slots, log: parentLog } = context;
  const name = naming.sessionName(sessionId);
  const log = parentLog.child({ sessionId });
  for (let attempt = 0; attempt < NAME_CONFLICT_RETRIES; attempt++) {
    const running = await provider.findRunning(name);
    if (running) {
      const live = await SandboxSession.open(sessionId, running, limits, log, undefined, LIVE_READY_TIMEOUT_MS).catch(() => undefined);
      if (live) return live;
      // It was ending (its idle timeout came as this turn arrived) or is broken: a fresh one, at once.
      log.info("the session's sandbox was ending or did not answer; starting a fresh one");
      await provider.remove(name).catch(() => undefined);
      continue;
    }
    if (context.draining()) throw new SandboxError("HOST_DRAINED", `This sandbox host is drained: session ${sessionId} starts on another.`);
    await context.placement?.claim(sessionId);
    await slots.reserve(name, owner, READY_TIMEOUT_MS + limits.timeoutMs);
    // From here a failure frees the slot; "taken" and name conflicts keep it: another process shares it for this session.
    const claim = await provider.pool.claim(name).catch(async (error: unknown) => {
      await slots.release(name);
      throw error;
    });
    // A hit or a miss (a cold start follows), for the worker's metrics; "taken" is neither.
    if (claim.kind !== "taken") context.events?.onPoolClaim?.({ host: context.host, hit: claim.kind === "claimed" });
    if (claim.kind === "claimed") {
      context.refillPool();
      return fresh(await SandboxSession.open(sessionId, claim.sandbox, limits, log, claim.connection), true, context);
    }
    if (claim.kind === "taken") continue; // another process is starting this session: attach to it
    let started: SandboxHandle | "exists";
    try {
      started = await provider.start(name);
    } catch (error) {
      await slots.release(name);
      throw error;
    }
    if (started === "exists") {
      await pause(100); // a stopped namesake is being removed
      continue;
    }
    void provider.pool.refill();
    return SandboxSession.open(sessionId, started, limits, log).then((session) => fresh(session, false, context)).catch(async (error: unknown) => {
      await removeSession(context, name).catch(() => undefined);
      await slots.release(name);
      throw error;
    });
  }
  throw new SandboxError("SANDBOX_START_FAILED", `Could not start or find the sandbox for session ${sessionId}.`);
}

/** A session just started: the hooks prepare it before it is used. */
async function fresh(session: SandboxSession, warm: boolean, { hooks, events, host }: EngineContext): Promise<SandboxSession> {
  await hooks?.prepare(session.sessionId, session);
  events?.onFreshSession?.({ sessionId: session.sessionId, host, warm });
  return session;
}
