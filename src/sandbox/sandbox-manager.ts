import type Docker from "dockerode";
import pTimeout from "p-timeout";
import type { ExecutionResult, SandboxFile } from "../core/execution-result.js";
import type { Logger } from "../log.js";
import { containerSpec, LABEL_NAMESPACE, specKey } from "./container-spec.js";
import { DockerSessionCapacity } from "./docker-session-capacity.js";
import { dockerStatus, explainDockerError } from "./docker-errors.js";
import type { UploadedFile, UploadSource } from "./file-transfer.js";
import { RunnerConnection } from "./runner-connection.js";
import { SandboxError } from "./sandbox-error.js";
import { maxFrameBytes, type SandboxLimits } from "./sandbox-limits.js";
import { LIVE_READY_TIMEOUT_MS, READY_TIMEOUT_MS, SandboxSession, type ExecuteOptions } from "./sandbox-session.js";
import type { SessionCapacity } from "./session-capacity.js";
import { sessionNaming, type SessionNaming } from "./session-naming.js";
import { removeContainer, removeLeftovers, runningContainerNames } from "./session-containers.js";
import { SessionSlots } from "./session-slots.js";
import type { Sandboxes, SessionUse } from "./sandboxes.js";
import type { AfterUse, HibernateHow, SessionBackend } from "./session-backend.js";
import { WarmPool } from "./warm-pool.js";

export interface SandboxManagerOptions {
  docker: Docker;
  image: string;
  /** The OCI runtime (e.g. runsc), or how to find it out once (SANDBOX_RUNTIME=auto asks the engine). */
  runtime?: string | (() => Promise<string>);
  namespace: string;
  limits: SandboxLimits;
  poolSize: number;
  maxSessions: number;
  /** Shared slots (Redis); without it, live containers are counted (no per-user cap, no eviction). */
  capacity?: SessionCapacity;
  /** Idle seconds after which a session may be ended for a new one (with `capacity`); 0: any session not in use. */
  evictAfterSeconds?: number;
  /**
   * Called with every session this process starts afresh (a new container), before anything runs
   * in it: durable workspaces put the thread's files and variables back here.
   */
  onFreshSession?: (sessionId: string, session: SandboxSession) => Promise<void>;
  /**
   * Ends a session whose slot was taken for a new one (durable workspaces put it to sleep); its
   * container is removed anyway unless this says it was (true).
   */
  evict?: (sessionId: string) => Promise<boolean>;
  /** How long `evict` may take before the session is removed anyway (its variables are then lost). */
  evictTimeoutMs?: number;
  /**
   * Called before a container is started for a session (a fleet's host: the session's place in the
   * catalog must be this host; it throws SESSION_ELSEWHERE when another host has it).
   */
  place?: (sessionId: string) => Promise<void>;
  log: Logger;
}


export interface SessionInfo {
  sessionId: string;
  containerId: string;
  createdAt: Date;
  status: string;
}

const NAME_CONFLICT_RETRIES = 20;
const EVICT_TIMEOUT_MS = 180_000;

/**
 * Creates, finds, uses and ends sandbox sessions. A session is a container named after its id,
 * so every codebot process (workers, `codebot exec`) reaches the same one; sessions end themselves
 * after the idle timeout (the container exits and Docker removes it with its /mnt/data volume).
 */
export class SandboxManager implements Sandboxes, SessionBackend {
  private readonly naming: SessionNaming;
  private readonly pool: WarmPool;
  private readonly open = new Map<string, Promise<SandboxSession>>();
  private warmTimer: NodeJS.Timeout | undefined;
  private readonly slots: SessionSlots;
  /** The Python version this engine's sandboxes last reported (see pythonVersion). */
  private reportedPython: string | undefined;
  /** Drained (a fleet's host being emptied): no container starts here, and sessions sleep as soon as unused. */
  private draining = false;

  constructor(private readonly options: SandboxManagerOptions) {
    this.naming = sessionNaming(options.namespace);
    this.pool = new WarmPool(options.docker, this.naming, options.namespace, options.image, options.poolSize, (name) => this.startContainer(name), options.log, maxFrameBytes(options.limits), async () => specKey(options.limits, await this.runtime()));
    const capacity = options.capacity ?? new DockerSessionCapacity(options.maxSessions, async () => (await this.listSessions()).length);
    this.slots = new SessionSlots(capacity, {
      idleTimeoutSeconds: options.limits.idleTimeoutSeconds,
      evictAfterSeconds: options.capacity ? options.evictAfterSeconds : undefined,
      listLive: () => runningContainerNames(options.docker, options.namespace, this.naming.sessionPrefix),
      evict: async (name) => {
        const sessionId = this.naming.sessionIdFromName(name);
        const slept = options.evict && sessionId !== undefined && (await this.evictOne(sessionId, options.evict));
        if (!slept) await this.removeSession(name);
      },
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
        session.onClose(() => this.open.get(sessionId) === opening && this.open.delete(sessionId));
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

  get limits(): SandboxLimits {
    return this.options.limits;
  }

  /** Sessions at most on this engine. */
  get maxSessions(): number {
    return this.options.maxSessions;
  }

  /** The engine's client (health checks, `codebot hosts`). */
  get engine(): Docker {
    return this.options.docker;
  }

  listFiles(sessionId: string): Promise<SandboxFile[]> {
    return this.use(sessionId, undefined, undefined, (session) => session.listFiles());
  }

  /** Sessions alive on the engine, in this namespace, from any process. */
  async listSessions(): Promise<SessionInfo[]> {
    const containers = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL_NAMESPACE}=${this.options.namespace}`] } });
    return containers.flatMap((info) => {
      const sessionId = info.Names.map((name) => this.naming.sessionIdFromName(name)).find((id) => id !== undefined);
      const hashed = info.Names.some((name) => name.replace(/^\//, "").startsWith(this.naming.sessionPrefix));
      if (sessionId === undefined && !hashed) return [];
      const fallback = (info.Names[0] ?? "").replace(/^\//, "");
      return [{ sessionId: sessionId ?? fallback, containerId: info.Id.slice(0, 12), createdAt: new Date(info.Created * 1000), status: info.Status }];
    });
  }

  /** Ends a session now: its container, variables and files are gone. False if there was none. */
  async kill(sessionId: string): Promise<boolean> {
    const name = this.naming.sessionName(sessionId);
    const removed = await this.removeSession(name);
    await this.slots.release(name);
    return removed;
  }

  /**
   * Puts an idle session to sleep: marks it (so no turn uses it meanwhile), lets `save` take what
   * it must from it, then removes its container and frees its slot. False when the session is in
   * use, not idle for idleMs, not running, or being hibernated elsewhere; nothing is changed then.
   * When save fails the session keeps running (and the error is thrown).
   */
  async hibernate(sessionId: string, { idleMs = 0, evicted = false, onlyIfDraining = false, onSlept }: HibernateHow, save: (session: SandboxSession) => Promise<void>): Promise<boolean> {
    if (onlyIfDraining && !this.draining) return false;
    if (this.draining) idleMs = 0; // a drained engine's sessions don't wait for their idle timeout
    const name = this.naming.sessionName(sessionId);
    if (!(await this.findRunning(name))) return false;
    // An evicted session's slot was taken already (as it was idle); any other must be idle and unused now.
    if (!evicted && !(await this.slots.startHibernation(name, idleMs, READY_TIMEOUT_MS))) return false;
    try {
      const session = await this.attachRunning(sessionId, name);
      if (session) await save(session);
      await this.removeSession(name);
      await onSlept?.();
    } finally {
      await this.slots.endHibernation(name);
    }
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
   * Drains this engine (a fleet's host) or takes it back: drained, no container starts here (a
   * session that has none is refused with HOST_DRAINED, for the fleet to place it elsewhere), the
   * warm pool is emptied and kept empty, and sessions sleep as soon as no one uses them. The mark
   * applies at once; the promise ends when the pool is empty.
   */
  setDraining(draining: boolean): Promise<void> {
    if (draining === this.draining) return Promise.resolve();
    this.draining = draining;
    return this.pool.hold(draining);
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Sessions that must go to sleep as soon as no one uses them: on a drained engine, every one not in use. */
  async departingSessionIds(): Promise<string[]> {
    return this.draining ? this.idleSessionIds(0) : [];
  }

  /** Warm sandboxes waiting in this engine's pool. */
  async pooled(): Promise<number> {
    return (await this.pool.members()).length;
  }

  /** Sessions holding a slot on this engine now (its load, for a fleet's placement). */
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
      const sessionId = this.naming.sessionIdFromName(name);
      return sessionId === undefined ? [] : [sessionId];
    });
  }

  /** Fills the warm pool and waits until every pooled sandbox's Python is ready. */
  async warmUp(): Promise<void> {
    await this.pool.refill();
    const members = await this.pool.members();
    await Promise.all(
      members.map(async (member) => {
        const connection = await RunnerConnection.ready(this.docker.getContainer(member.Id), this.options.log, READY_TIMEOUT_MS, maxFrameBytes(this.options.limits));
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
    const removed = await removeLeftovers(this.docker, this.options.namespace).catch(() => ({ containers: 0, volumes: 0 }));
    if (removed.containers || removed.volumes) this.options.log.info(removed, "removed what ended sessions left behind");
    await this.pool.refill().catch(() => undefined);
  }

  /** Detaches from every session (they keep running until idle) and finishes pool refills. */
  async close(): Promise<void> {
    clearInterval(this.warmTimer);
    await this.pool.refill().catch(() => undefined);
    await Promise.all([...this.open.values()].map((opening) => opening.then((session) => session.detach(), () => undefined)));
    this.open.clear();
  }

  /** Removes every sandbox of this namespace, pool included (tests, `codebot sessions kill --all`). */
  async destroyAll(): Promise<void> {
    const containers = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL_NAMESPACE}=${this.options.namespace}`] } });
    await Promise.all(containers.map((info) => this.docker.getContainer(info.Id).remove({ force: true, v: true }).catch(() => undefined)));
    this.open.clear();
  }

  private get docker(): Docker {
    return this.options.docker;
  }

  /** Runs task on the session, opened for owner if new, marked busy meanwhile (never evicted while in use). */
  private use<T>(sessionId: string, owner: string | undefined, timeoutMs: number | undefined, task: (session: SandboxSession) => Promise<T>): Promise<T> {
    const leaseMs = (timeoutMs ?? this.options.limits.timeoutMs) + READY_TIMEOUT_MS;
    return this.slots.use(this.naming.sessionName(sessionId), owner, leaseMs, () => this.session(sessionId, owner), task);
  }

  /** Removes a session's container and forgets it here; false if there was none. Its slot is the caller's business. */
  private removeSession(name: string): Promise<boolean> {
    this.forget(name);
    return removeContainer(this.docker, name, this.options.image);
  }

  /** Detaches from a session and forgets it here, so the next use opens it again. */
  private forget(name: string): void {
    this.drop(name)();
  }

  /** Forgets a session here (the next use opens it again); returns how to detach from what was open. */
  private drop(name: string): () => void {
    const dropped: Array<Promise<SandboxSession>> = [];
    for (const [sessionId, opening] of this.open) {
      if (this.naming.sessionName(sessionId) !== name) continue;
      this.open.delete(sessionId);
      dropped.push(opening);
    }
    return () => {
      for (const opening of dropped) opening.then((session) => session.detach(), () => undefined);
    };
  }

  private async openSession(sessionId: string, owner: string | undefined): Promise<SandboxSession> {
    const name = this.naming.sessionName(sessionId);
    const log = this.options.log.child({ sessionId });
    for (let attempt = 0; attempt < NAME_CONFLICT_RETRIES; attempt++) {
      const container = await this.findRunning(name);
      if (container) {
        const live = await SandboxSession.open(sessionId, container, this.options.limits, log, undefined, LIVE_READY_TIMEOUT_MS).catch(() => undefined);
        if (live) return live;
        // It was ending (its idle timeout came as this turn arrived) or is broken: a fresh one, at once.
        log.info("the session's sandbox was ending or did not answer; starting a fresh one");
        await container.remove({ force: true, v: true }).catch(() => undefined);
        continue;
      }
      if (this.draining) throw new SandboxError("HOST_DRAINED", `This sandbox host is drained: session ${sessionId} starts on another.`);
      await this.options.place?.(sessionId);
      await this.slots.reserve(name, owner, READY_TIMEOUT_MS + this.options.limits.timeoutMs);
      // From here a failure frees the slot; "taken" and name conflicts keep it: another process shares it for this session.
      const claim = await this.pool.claim(name).catch(async (error) => {
        await this.slots.release(name);
        throw explainDockerError(error, this.options.image);
      });
      if (claim.kind === "claimed") {
        void this.pool.refill();
        return this.fresh(await SandboxSession.open(sessionId, claim.container, this.options.limits, log, claim.connection));
      }
      if (claim.kind === "taken") continue; // another process is starting this session: attach to it
      let started: Docker.Container;
      try {
        started = await this.startContainer(name);
      } catch (error) {
        if (dockerStatus(error) !== 409) {
          await this.slots.release(name);
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 100)); // a stopped namesake is being removed
        continue;
      }
      void this.pool.refill();
      return SandboxSession.open(sessionId, started, this.options.limits, log).then((session) => this.fresh(session)).catch(async (error: unknown) => {
        await this.removeSession(name).catch(() => undefined);
        await this.slots.release(name);
        throw error;
      });
    }
    throw new SandboxError("SANDBOX_START_FAILED", `Could not start or find the sandbox for session ${sessionId}.`);
  }

  /** The running session, attached to but never started afresh (a session that died stays gone). */
  private async attachRunning(sessionId: string, name: string): Promise<SandboxSession | undefined> {
    const cached = await this.open.get(sessionId)?.catch(() => undefined);
    if (cached) return cached;
    const container = await this.findRunning(name);
    if (!container) return undefined;
    return SandboxSession.open(sessionId, container, this.options.limits, this.options.log.child({ sessionId }), undefined, LIVE_READY_TIMEOUT_MS).catch(() => undefined);
  }

  /** Ends a session whose slot was taken through the evict hook; false when it failed or took too long (it is removed then). */
  private async evictOne(sessionId: string, evict: (sessionId: string) => Promise<boolean>): Promise<boolean> {
    const milliseconds = this.options.evictTimeoutMs ?? EVICT_TIMEOUT_MS;
    return pTimeout(evict(sessionId), { milliseconds }).catch((error: unknown) => {
      this.options.log.warn({ err: error, sessionId }, "could not put a session to sleep to make room; it is ended");
      return false;
    });
  }

  /** A session just started: the onFreshSession hook prepares it before it is used. */
  private async fresh(session: SandboxSession): Promise<SandboxSession> {
    await this.options.onFreshSession?.(session.sessionId, session);
    return session;
  }

  private async findRunning(name: string): Promise<Docker.Container | undefined> {
    const container = this.docker.getContainer(name);
    try {
      const info = await container.inspect();
      if (info.State.Running) return container;
      await container.remove({ force: true, v: true }).catch(() => undefined);
      return undefined;
    } catch (error) {
      if (dockerStatus(error) === 404) return undefined;
      throw explainDockerError(error, this.options.image);
    }
  }

  private async runtime(): Promise<string | undefined> {
    const { runtime } = this.options;
    return typeof runtime === "function" ? runtime() : runtime;
  }

  private async startContainer(name: string): Promise<Docker.Container> {
    const spec = containerSpec({ name, image: this.options.image, namespace: this.options.namespace, limits: this.options.limits, runtime: await this.runtime() });
    try {
      const container = await this.docker.createContainer(spec);
      await container.start();
      return container;
    } catch (error) {
      throw explainDockerError(error, this.options.image);
    }
  }
}
