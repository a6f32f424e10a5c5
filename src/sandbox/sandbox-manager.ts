import type { ExecutionResult, SandboxFile } from "../core/execution-result.js";
import type { Logger } from "../log.js";
import type { UploadedFile, UploadSource } from "./file-transfer.js";
import { SandboxError } from "./sandbox-error.js";
import type { SandboxEngine, SessionInfo } from "./sandbox-engine.js";
import type { SandboxLimits } from "./sandbox-limits.js";
import type { SandboxProvider } from "./sandbox-provider.js";
import { READY_TIMEOUT_MS, type ExecuteOptions, type SandboxSession } from "./sandbox-session.js";
import type { Sandboxes, SessionUse } from "./sandboxes.js";
import type { AfterUse, HibernateHow } from "./session-backend.js";
import type { SessionCapacity } from "./session-capacity.js";
import type { SessionEvents } from "./session-events.js";
import type { SessionHooks, SessionPlacement } from "./session-hooks.js";
import type { SessionNaming } from "./session-naming.js";
import { removeSession, type EngineContext } from "./engine-context.js";
import { OpenSessions } from "./open-sessions.js";
import { PoolUpkeep } from "./pool-upkeep.js";
import { openSession } from "./session-opening.js";
import { evictSession, hibernateSession } from "./session-sleep.js";
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

/**
 * Creates, finds, uses and ends the sandbox sessions of one engine, whatever the engine is (its
 * SandboxProvider): a session is a sandbox named after its id, so every codebot process (workers,
 * `codebot exec`) reaches the same one; sessions end themselves after the idle timeout. Slots
 * (SessionSlots) say who may hold one; hooks and events tell the layers above what happened.
 */
export class SandboxManager implements Sandboxes, SandboxEngine {
  private readonly open: OpenSessions;
  private readonly upkeep: PoolUpkeep;
  private readonly slots: SessionSlots;
  private readonly context: EngineContext;
  /** The Python version this engine's sandboxes last reported (see pythonVersion). */
  private reportedPython: string | undefined;
  /** Drained (a fleet's host being emptied): no sandbox starts here, and sessions sleep as soon as unused. */
  private draining = false;

  constructor(private readonly options: SandboxManagerOptions) {
    const { naming, events, host } = options;
    this.open = new OpenSessions(naming, (sessionId, owner) => openSession(this.context, sessionId, owner), {
      opened: (session) => void (this.reportedPython = session.python ?? this.reportedPython),
      closed: (session) => session.lost && events?.onSessionEnded?.({ sessionId: session.sessionId, host, reason: "lost" }),
    });
    this.upkeep = new PoolUpkeep(options.provider, options.limits, options.log, (python) => void (this.reportedPython = python ?? this.reportedPython));
    this.slots = new SessionSlots(options.capacity, {
      idleTimeoutSeconds: options.limits.idleTimeoutSeconds,
      evictAfterSeconds: options.evictAfterSeconds,
      listLive: () => options.provider.runningSessionNames(),
      evict: (name) => evictSession(this.context, name),
      forget: (name) => this.open.drop(name),
      log: options.log,
    });
    this.context = { ...options, slots: this.slots, open: this.open, draining: () => this.draining, refillPool: () => this.upkeep.refillSoon() };
  }

  /** The live session with this id, attaching to or starting its sandbox as needed. */
  session(sessionId: string, owner?: string): Promise<SandboxSession> {
    return this.open.get(sessionId, owner);
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
    const removed = await removeSession(this.context, name);
    await this.slots.release(name);
    if (removed) this.options.events?.onSessionEnded?.({ sessionId, host: this.options.host, reason: "killed" });
    return removed;
  }

  /** Puts an idle session to sleep (see hibernateSession); false when it was not, and nothing was changed. */
  hibernate(sessionId: string, how: HibernateHow, save: (session: SandboxSession) => Promise<void>): Promise<boolean> {
    return hibernateSession(this.context, sessionId, how, save);
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
    return this.open.ids();
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
  warmUp(): Promise<void> {
    return this.upkeep.warmUp();
  }

  /**
   * Keeps the warm pool full while nobody asks: pool members end after the idle timeout like any
   * session, so it is topped up every intervalMs (a long-running worker calls this).
   */
  keepWarm(intervalMs: number): void {
    this.upkeep.keepWarm(intervalMs);
  }

  /** Tops the pool up and removes what sessions left behind (after an engine restart, say). */
  tidy(): Promise<void> {
    return this.upkeep.tidy();
  }

  /** Detaches from every session (they keep running until idle) and finishes pool refills. */
  async close(): Promise<void> {
    await this.upkeep.stop();
    await this.open.detachAll();
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
}
