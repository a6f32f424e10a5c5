import pTimeout from "p-timeout";
import type { ExecutionResult, SandboxFile } from "../core/execution-result.js";
import type { Logger } from "../log.js";
import type { UploadedFile, UploadSource } from "./file-transfer.js";
import { RunnerConnection } from "./runner-connection.js";
import { SandboxError } from "./sandbox-error.js";
import type { SandboxEngine, SessionInfo } from "./sandbox-engine.js";
import { maxFrameBytes, type SandboxLimits } from "./sandbox-limits.js";
import type { SandboxProvider } from "./sandbox-provider.js";
import { LIVE_READY_TIMEOUT_MS, READY_TIMEOUT_MS, SandboxSession, type ExecuteOptions } from "./sandbox-session.js";
import type { Sandboxes, SessionUse } from "./sandboxes.js";
import type { AfterUse, HibernateHow } from "./session-backend.js";
import type { SessionCapacity } from "./session-capacity.js";
import type { SessionEvents } from "./session-events.js";
import type { SessionHooks, SessionPlacement } from "./session-hooks.js";
import type { SessionNaming } from "./session-naming.js";
import { openSession } from "./session-opening.js";
import { SessionSlots } from "./session-slots.js";

export interface SandboxManagerOptions {
  /** Where the sandboxes run (docker/docker-provider.ts). */
  provider: SandboxProvider;
  /** How sessions are named on the engine: the provider's naming. */
  naming: SessionNaming;
  limits: SandboxLimits;
  maxSessions: number;
  /** Who may hold a session: Redis slots shared by every process, or the engine's live sandboxes counted. */
  capacity: SessionCapacity;
  /**
   * Idle seconds after which a session may be ended for a new one; 0: any session not in use;
   * undefined: never (capacity that records no use, `codebot exec` without Redis).
   */
  evictAfterSeconds?: number;
  /** What is awaited when a session starts afresh or is evicted (durable workspaces). */
  hooks?: SessionHooks;
  /** How long `hooks.sleep` may take before an evicted session is removed anyway (its variables are then lost). */
  evictTimeoutMs?: number;
  /** A fleet's catalog, as this engine's host claims and gives up places in it. */
  placement?: SessionPlacement;
  /** Told of pool claims, fresh, evicted, hibernated and ended sessions. */
  events?: SessionEvents;
  /** The engine's name in a fleet (events, logs); none with one engine. */
  host?: string;
  log: Logger;
}

const EVICT_TIMEOUT_MS = 180_000;

/**
 * Creates, finds, uses and ends the sandbox sessions of one engine, whatever the engine is (its
 * SandboxProvider): a session is a sandbox named after its id, so every codebot process (workers,
 * `codebot exec`) reaches the same one; sessions end themselves after the idle timeout. Slots
 * (SessionSlots) say who may hold one; hooks and events tell the layers above what happened.
 */
export class SandboxManager implements Sandboxes, SandboxEngine {
  private readonly open = new Map<string, Promise<SandboxSession>>();
  private warmTimer: NodeJS.Timeout | undefined;
  private readonly slots: SessionSlots;
  /** The Python version this engine's sandboxes last reported (see pythonVersion). */
  private reportedPython: string | undefined;
  /** Drained (a fleet's host being emptied): no sandbox starts here, and sessions sleep as soon as unused. */
  private draining = false;

  constructor(private readonly options: SandboxManagerOptions) {
    this.slots = new SessionSlots(options.capacity, {
      idleTimeoutSeconds: options.limits.idleTimeoutSeconds,
      evictAfterSeconds: options.evictAfterSeconds,
      listLive: () => options.provider.runningSessionNames(),
      evict: (name) => this.evict(name),
      forget: (name) => this.drop(name),
      log: options.log,
    });
  }

  /** The live session with this id, attaching to or starting its sandbox as needed. */
  session(sessionId: string, owner?: string): Promise<SandboxSession> {
    const existing = this.open.get(sessionId);
    if (existing) return existing;
    const opening = this.openSession(sessionId, owner);
    this.open.set(sessionId, opening);
    opening.then(
      (session) => {
        this.reportedPython = session.python ?? this.reportedPython;
        session.onClose(() => {
          if (this.open.get(sessionId) === opening) this.open.delete(sessionId);
          if (session.lost) this.options.events?.onSessionEnded?.({ sessionId, host: this.options.host, reason: "lost" });
        });
      },
      () => this.open.delete(sessionId),
    );
    return opening;
  }

  /**
   * Runs code in the session. `after` runs on its result while the session is still held (a
   * durable workspace saves the files the code changed there).
   */
  async execute(sessionId: string, code: string, { owner, ...options }: ExecuteOptions & SessionUse = {}, after?: AfterUse<ExecutionResult>): Promise<ExecutionResult> {
    const run = () => this.use(sessionId, owner, options.timeoutMs, async (session) => {
      const result = await session.execute(code, options);
      return after ? after(session, result) : result;
    });
    try {
      return await run();
    } catch (error) {
      // The session went away at its idle timeout as this execution was sent: it never started, so
      // it runs now in a fresh session (which the next open starts).
      if (!(error instanceof SandboxError && error.code === "SESSION_ENDED")) throw error;
      this.options.log.info({ sessionId }, "the session ended as an execution arrived; running it in a fresh one");
      return run();
    }
  }

  upload(sessionId: string, sources: UploadSource[], { owner }: SessionUse = {}, after?: AfterUse<UploadedFile[]>): Promise<UploadedFile[]> {
    return this.use(sessionId, owner, undefined, async (session) => {
      const uploaded = await session.upload(sources);
      return after ? after(session, uploaded) : uploaded;
    });
  }

  /** A file of the session; refused past maxBytes (at most SANDBOX_MAX_FILE_MB) before it is buffered. */
  download(sessionId: string, path: string, maxBytes?: number): Promise<Buffer> {
    return this.use(sessionId, undefined, undefined, (session) => session.download(path, maxBytes));
  }

  listFiles(sessionId: string): Promise<SandboxFile[]> {
    return this.use(sessionId, undefined, undefined, (session) => session.listFiles());
  }

  get limits(): SandboxLimits {
    return this.options.limits;
  }

  get maxSessions(): number {
    return this.options.maxSessions;
  }

  listSessions(): Promise<SessionInfo[]> {
    return this.options.provider.listSessions();
  }

  /** Ends a session now: its sandbox, variables and files are gone. False if there was none. */
  async kill(sessionId: string): Promise<boolean> {
    const name = this.options.naming.sessionName(sessionId);
    const removed = await this.removeSession(name);
    await this.slots.release(name);
    if (removed) this.options.events?.onSessionEnded?.({ sessionId, host: this.options.host, reason: "killed" });
    return removed;
  }

  /**
   * Puts an idle session to sleep: marks it (so no turn uses it meanwhile), lets `save` take what
   * it must from it, then removes its sandbox, gives up its place in a fleet and frees its slot.
   * False when the session is in use, not idle for idleMs, not running, or being hibernated
   * elsewhere; nothing is changed then. When save fails the session keeps running (and the error is thrown).
   */
  async hibernate(sessionId: string, { idleMs = 0, evicted = false, onlyIfDraining = false }: HibernateHow, save: (session: SandboxSession) => Promise<void>): Promise<boolean> {
    if (onlyIfDraining && !this.draining) return false;
    if (this.draining) idleMs = 0; // a drained engine's sessions don't wait for their idle timeout
    const name = this.options.naming.sessionName(sessionId);
    if (!(await this.options.provider.findRunning(name))) return false;
    // An evicted session's slot was taken already (as it was idle); any other must be idle and unused now.
    if (!evicted && !(await this.slots.startHibernation(name, idleMs, READY_TIMEOUT_MS))) return false;
    try {
      const session = await this.attachRunning(sessionId, name);
      if (session) await save(session);
      await this.removeSession(name);
      await this.options.placement?.release(sessionId);
    } finally {
      await this.slots.endHibernation(name);
    }
    const { events, host } = this.options;
    events?.onHibernated?.({ sessionId, host, evicted });
    events?.onSessionEnded?.({ sessionId, host, reason: "hibernated" });
    return true;
  }

  /**
   * The Python version the image's sandboxes report (their supervisor's ping: warm pool members at
   * warm-up, each session attached), for the model's system prompt; undefined until one has.
   */
  pythonVersion(): string | undefined {
    return this.reportedPython;
  }

  /**
   * Drains this engine (a fleet's host) or takes it back: drained, no sandbox starts here (a
   * session that has none is refused with HOST_DRAINED, for the fleet to place it elsewhere), the
   * warm pool is emptied and kept empty, and sessions sleep as soon as no one uses them. The mark
   * applies at once; the promise ends when the pool is empty.
   */
  setDraining(draining: boolean): Promise<void> {
    if (draining === this.draining) return Promise.resolve();
    this.draining = draining;
    return this.options.provider.pool.hold(draining);
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Sessions that must go to sleep as soon as no one uses them: on a drained engine, every one not in use. */
  async departingSessionIds(): Promise<string[]> {
    return this.draining ? this.idleSessionIds(0) : [];
  }

  async pooled(): Promise<number> {
    return (await this.options.provider.pool.members()).length;
  }

  sessionCount(): Promise<number> {
    return this.slots.count();
  }

  /** Ids of the sessions this process has open. */
  openSessionIds(): string[] {
    return [...this.open.keys()];
  }

  /** Ids of the running sessions idle for at least idleMs and not in use (by any process, through Redis). */
  async idleSessionIds(idleMs: number): Promise<string[]> {
    const names = await this.slots.idle(idleMs);
    return names.flatMap((name) => {
      const sessionId = this.options.naming.sessionIdFromName(name);
      return sessionId === undefined ? [] : [sessionId];
    });
  }

  ping(): Promise<void> {
    return this.options.provider.ping();
  }

  setupProblem(): Promise<SandboxError | undefined> {
    return this.options.provider.setupProblem();
  }

  /** Fills the warm pool and waits until every pooled sandbox's Python is ready. */
  async warmUp(): Promise<void> {
    const { pool } = this.options.provider;
    await pool.refill();
    const members = await pool.members();
    await Promise.all(
      members.map(async (member) => {
        const connection = await RunnerConnection.ready(member, this.options.log, READY_TIMEOUT_MS, maxFrameBytes(this.options.limits));
        this.reportedPython = connection.python ?? this.reportedPython;
        connection.close();
      }),
    );
  }

  /**
   * Keeps the warm pool full while nobody asks: pool members end after the idle timeout like any
   * session, so it is topped up every intervalMs (a long-running worker calls this).
   */
  keepWarm(intervalMs: number): void {
    clearInterval(this.warmTimer);
    this.warmTimer = setInterval(() => void this.tidy(), intervalMs);
    this.warmTimer.unref();
  }

  /** Tops the pool up and removes what sessions left behind (after an engine restart, say). */
  async tidy(): Promise<void> {
    const removed = await this.options.provider.removeLeftovers().catch(() => ({}));
    if (Object.values(removed).some((count) => count > 0)) this.options.log.info(removed, "removed what ended sessions left behind");
    await this.options.provider.pool.refill().catch(() => undefined);
  }

  /** Detaches from every session (they keep running until idle) and finishes pool refills. */
  async close(): Promise<void> {
    clearInterval(this.warmTimer);
    await this.options.provider.pool.refill().catch(() => undefined);
    await Promise.all([...this.open.values()].map((opening) => opening.then((session) => session.detach(), () => undefined)));
    this.open.clear();
  }

  /** Removes every sandbox of this namespace, pool included (tests, `codebot sessions kill --all`). */
  async destroyAll(): Promise<void> {
    await this.options.provider.removeAll();
    this.open.clear();
  }

  /** Runs task on the session, opened for owner if new, marked busy meanwhile (never evicted while in use). */
  private use<T>(sessionId: string, owner: string | undefined, timeoutMs: number | undefined, task: (session: SandboxSession) => Promise<T>): Promise<T> {
    const leaseMs = (timeoutMs ?? this.options.limits.timeoutMs) + READY_TIMEOUT_MS;
    return this.slots.use(this.options.naming.sessionName(sessionId), owner, leaseMs, () => this.session(sessionId, owner), task);
  }

  private openSession(sessionId: string, owner: string | undefined): Promise<SandboxSession> {
    return openSession(sessionId, owner, {
      ...this.options,
      slots: this.slots,
      draining: () => this.draining,
      removeSession: (name) => this.removeSession(name),
    });
  }

  /** Removes a session's sandbox and forgets it here; false if there was none. Its slot is the caller's business. */
  private removeSession(name: string): Promise<boolean> {
    this.forget(name);
    return this.options.provider.remove(name);
  }

  /** Detaches from a session and forgets it here, so the next use opens it again. */
  private forget(name: string): void {
    this.drop(name)();
  }

  /** Forgets a session here (the next use opens it again); returns how to detach from what was open. */
  private drop(name: string): () => void {
    const dropped: Array<Promise<SandboxSession>> = [];
    for (const [sessionId, opening] of this.open) {
      if (this.options.naming.sessionName(sessionId) !== name) continue;
      this.open.delete(sessionId);
      dropped.push(opening);
    }
    return () => {
      for (const opening of dropped) opening.then((session) => session.detach(), () => undefined);
    };
  }

  /** The running session, attached to but never started afresh (a session that died stays gone). */
  private async attachRunning(sessionId: string, name: string): Promise<SandboxSession | undefined> {
    const cached = await this.open.get(sessionId)?.catch(() => undefined);
    if (cached) return cached;
    const sandbox = await this.options.provider.findRunning(name);
    if (!sandbox) return undefined;
    return SandboxSession.open(sessionId, sandbox, this.options.limits, this.options.log.child({ sessionId }), undefined, LIVE_READY_TIMEOUT_MS).catch(() => undefined);
  }

  /**
   * Ends a session whose slot was taken for a new one: it sleeps through the hooks (its variables
   * saved) within the evict timeout, else its sandbox is removed.
   */
  private async evict(name: string): Promise<void> {
    const { hooks, events, host, log } = this.options;
    const sessionId = this.options.naming.sessionIdFromName(name);
    let slept = false;
    if (hooks && sessionId !== undefined) {
      const sleeping = this.hibernate(sessionId, { evicted: true }, (session) => hooks.sleep(sessionId, session));
      slept = await pTimeout(sleeping, { milliseconds: this.options.evictTimeoutMs ?? EVICT_TIMEOUT_MS }).catch((error: unknown) => {
        log.warn({ err: error, sessionId }, "could not put a session to sleep to make room; it is ended");
        return false;
      });
    }
    if (!slept) await this.removeSession(name);
    events?.onEvicted?.({ sessionId, host, hibernated: slept });
    if (!slept && sessionId !== undefined) events?.onSessionEnded?.({ sessionId, host, reason: "evicted" });
  }
}
