import type { Logger } from "../log.js";
import type { ReserveOutcome, SessionCapacity } from "./session-capacity.js";
import { SandboxError } from "./sandbox-error.js";

export interface SessionSlotsOptions {
  /** Seconds after which a session stops itself when unused. */
  idleTimeoutSeconds: number;
  /**
   * Seconds of idleness after which a session may be ended for a new one; undefined: never; 0: any
   * session not in use right now (durable workspaces: it goes to sleep and loses nothing).
   */
  evictAfterSeconds?: number;
  /** Keys (sandbox names) of the sessions running now, from the engine. */
  listLive: () => Promise<string[]>;
  /** Ends a session whose slot was given to a new one (its sandbox is removed, or it hibernates). */
  evict: (key: string) => Promise<void>;
  /**
   * Drops this process's connection to a session that is being hibernated, so the next open starts
   * afresh; returns how to close it, called once the hibernation is over (it may be using it).
   */
  forget: (key: string) => () => void;
  log: Logger;
}

/** How long a turn waits for its session's hibernation to finish before it gives up on that try. */
const HIBERNATION_WAIT_MS = 120_000;
const HIBERNATION_RETRIES = 2;
/** How long a new session waits for sessions being put to sleep to free their slots, when nothing else can. */
const LEAVING_WAIT_MS = 30_000;
const POLL_MS = 100;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function minutes(seconds: number): string {
  const count = Math.max(1, Math.round(seconds / 60));
  return count === 1 ? "a minute" : `${count} minutes`;
}

/**
 * The manager's side of session capacity: reserves a slot before a session starts (reclaiming the
 * slots of sessions that died, then ending idle ones, before refusing), and keeps a session marked
 * busy while this process uses it.
 */
export class SessionSlots {
  private readonly users = new Map<string, number>();

  constructor(
    private readonly capacity: SessionCapacity,
    private readonly options: SessionSlotsOptions,
  ) {}

  /**
   * A slot for a session about to start, or SESSION_LIMIT. Sessions it displaces are ended (or put
   * to sleep) first; while every counted session is in use but some are going to sleep already, it
   * waits for their slots rather than refuse.
   */
  async reserve(key: string, owner: string | undefined, leaseMs: number): Promise<void> {
    const request = { key, owner, leaseMs };
    let outcome = await this.capacity.reserve({ ...request, evict: false });
    if (outcome.kind === "full") {
      const reclaimed = await this.capacity.reconcile(this.options.listLive);
      if (reclaimed) this.options.log.info({ reclaimed }, "reclaimed the slots of sessions that ended");
      const deadline = Date.now() + LEAVING_WAIT_MS;
      for (;;) {
        outcome = await this.capacity.reserve({ ...request, evict: this.options.evictAfterSeconds !== undefined });
        if (outcome.kind !== "full" || !outcome.leaving || Date.now() > deadline) break;
        await pause(POLL_MS);
      }
    }
    if (outcome.kind === "full") throw this.limitError(outcome);
    await Promise.all(outcome.evicted.map((victim) => this.evict(victim, key)));
  }

  /** Ends a session whose slot went to `key`; its slot is freed whatever happens. */
  private async evict(victim: string, key: string): Promise<void> {
    this.options.log.info({ evicted: victim, for: key }, "an idle session makes room for a new one");
    try {
      await this.options.evict(victim);
    } finally {
      await this.capacity.endHibernation(victim).catch((error: unknown) => this.options.log.warn({ err: error, key: victim }, "could not free an evicted session's slot"));
    }
  }

  /**
   * Runs task with the session marked busy (not evictable) from when it is open until task ends.
   * A session being hibernated is not used: this waits for it to be put to sleep, then opens it
   * afresh (the open resumes it from its workspace).
   */
  async use<S, T>(key: string, owner: string | undefined, leaseMs: number, open: () => Promise<S>, task: (session: S) => Promise<T>): Promise<T> {
    this.users.set(key, (this.users.get(key) ?? 0) + 1);
    try {
      for (let attempt = 0; ; attempt++) {
        const session = await open();
        if ((await this.capacity.begin({ key, owner, leaseMs })) === "ok") return await task(session);
        if (attempt >= HIBERNATION_RETRIES) throw new SandboxError("SANDBOX_START_FAILED", "The thread's session is being put to sleep and did not finish in time: please ask again.");
        this.options.log.info({ key }, "the session is being hibernated; waiting to resume it");
        const detach = this.options.forget(key);
        await this.waitForHibernation(key);
        detach();
      }
    } finally {
      const left = (this.users.get(key) ?? 1) - 1;
      if (left > 0) this.users.set(key, left);
      else {
        this.users.delete(key);
        await this.capacity.end(key).catch((error: unknown) => this.options.log.warn({ err: error, key }, "could not mark a session idle"));
      }
    }
  }

  private async waitForHibernation(key: string): Promise<void> {
    const deadline = Date.now() + HIBERNATION_WAIT_MS;
    while (Date.now() < deadline && (await this.capacity.hibernating(key))) await pause(POLL_MS);
  }

  release(key: string): Promise<void> {
    return this.capacity.release(key);
  }

  startHibernation(key: string, idleMs: number, leaseMs: number): Promise<boolean> {
    return this.capacity.startHibernation(key, idleMs, leaseMs);
  }

  endHibernation(key: string): Promise<void> {
    return this.capacity.endHibernation(key);
  }

  count(): Promise<number> {
    return this.capacity.count();
  }

  idle(idleMs: number): Promise<string[]> {
    return this.capacity.idle(idleMs);
  }

  private limitError(outcome: Extract<ReserveOutcome, { kind: "full" }>): SandboxError {
    const { evictAfterSeconds, idleTimeoutSeconds } = this.options;
    // Any session not in use would have made room: every one counted is in use right now.
    if (evictAfterSeconds === 0) return new SandboxError("SESSION_LIMIT", allBusy(outcome));
    const freed = evictAfterSeconds ?? idleTimeoutSeconds;
    if (outcome.scope === "user") {
      return new SandboxError(
        "SESSION_LIMIT",
        `You have ${outcome.held} sandbox sessions open, the most one person may have, and all are in use. ` +
          `End one you no longer need (/reset in its thread), or try again once one has been idle for ${minutes(freed)}.`,
      );
    }
    return new SandboxError(
      "SESSION_LIMIT",
      `${outcome.limit === 1 ? "The only sandbox session is" : `All ${outcome.limit} sandbox sessions are`} in use. Try again later: a session is freed once it has been idle for ${minutes(freed)}.`,
    );
  }
}

/** The refusal when idle sessions make room at once: every session counted is running code (or going to sleep). */
function allBusy({ scope, held, limit, leaving }: Extract<ReserveOutcome, { kind: "full" }>): string {
  const doing = leaving ? "running code or going to sleep" : "running code";
  if (scope === "user") {
    return (
      `You have ${held} sandbox sessions open, the most one person may have, and ${held === 1 ? "it is" : `all ${held} are`} ${doing} right now. ` +
      "Try again when one finishes, or stop one you no longer need (/reset in its thread)."
    );
  }
  return `${limit === 1 ? "The only sandbox session is" : `All ${limit} sandbox sessions are`} ${doing} right now. Try again when one finishes.`;
}
