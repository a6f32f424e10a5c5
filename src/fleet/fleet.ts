import pTimeout from "p-timeout";
import type { ExecutionResult, SandboxFile } from "../core/execution-result.js";
import type { Logger } from "../log.js";
import type { UploadedFile, UploadSource } from "../sandbox/file-transfer.js";
import { SandboxError } from "../sandbox/sandbox-error.js";
import type { SandboxEngine, SessionInfo } from "../sandbox/sandbox-engine.js";
import type { SandboxLimits } from "../sandbox/sandbox-limits.js";
import type { ExecuteOptions, SandboxSession } from "../sandbox/sandbox-session.js";
import type { SessionUse } from "../sandbox/sandboxes.js";
import type { AfterUse, HibernateHow, SessionBackend } from "../sandbox/session-backend.js";
import type { HostSpec } from "../core/host-spec.js";
import type { HostState, HostStates } from "./host-states.js";
import { chooseHost } from "./placement.js";
import type { SessionCatalog } from "./session-catalog.js";

/** One engine of the fleet and the manager of its sessions (its engine's own places are claimed through SessionCatalog.placementOn). */
export interface FleetMember {
  spec: HostSpec;
  manager: SandboxEngine;
}

export interface FleetOptions {
  members: FleetMember[];
  catalog: SessionCatalog;
  states: HostStates;
  log: Logger;
}

/** How long a worker trusts its last read of the hosts' health and drain marks. */
const STATE_CACHE_MS = 500;
const PING_TIMEOUT_MS = 2000;
/** Times a session is routed afresh when the host it was routed to can't start it. */
const PLACE_RETRIES = 3;

/**
 * Sandbox sessions across several engines (SandboxEngine: Docker engines today). A thread's session
 * lives where the catalog (Redis) places it, whichever worker takes its turn; new threads go to the
 * healthy, undrained host with the most room. A thread whose host is down is placed afresh at its next use (durable
 * workspaces bring its files back there). A drained host starts nothing: its pool is emptied, its
 * sessions keep serving while in use and sleep as soon as they are not, then move. Nothing but a
 * reachable engine with the sandbox image is needed on a host.
 */
export class Fleet implements SessionBackend {
  private readonly byName: Map<string, FleetMember>;
  private cached: { at: number; states: Map<string, HostState> } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: FleetOptions) {
    this.byName = new Map(options.members.map((member) => [member.spec.name, member]));
  }

  get members(): FleetMember[] {
    return this.options.members;
  }

  get limits(): SandboxLimits {
    return this.options.members[0]!.manager.limits;
  }

  execute(sessionId: string, code: string, options: ExecuteOptions & SessionUse = {}, after?: AfterUse<ExecutionResult>): Promise<ExecutionResult> {
    return this.on(sessionId, (manager) => manager.execute(sessionId, code, options, after));
  }

  upload(sessionId: string, sources: UploadSource[], use: SessionUse = {}, after?: AfterUse<UploadedFile[]>): Promise<UploadedFile[]> {
    return this.on(sessionId, (manager) => manager.upload(sessionId, sources, use, after));
  }

  download(sessionId: string, path: string, maxBytes?: number): Promise<Buffer> {
    return this.on(sessionId, (manager) => manager.download(sessionId, path, maxBytes));
  }

  listFiles(sessionId: string): Promise<SandboxFile[]> {
    return this.on(sessionId, (manager) => manager.listFiles(sessionId));
  }

  /** Ends the session wherever it runs (every reachable host is asked: a lost catalog entry leaves nothing behind). */
  async kill(sessionId: string): Promise<boolean> {
    const placed = await this.options.catalog.locate(sessionId);
    const killed = await Promise.all(this.options.members.map((member) => member.manager.kill(sessionId).catch(() => false)));
    if (placed) await this.options.catalog.clear(sessionId, placed.host);
    return killed.some(Boolean);
  }

  /**
   * Puts the session to sleep on its host (at once if the host is drained). Its host's engine clears
   * its place once its sandbox is gone and before any turn may open it again (its SessionPlacement),
   * so its next use may go anywhere and no sandbox is ever left where the catalog doesn't say.
   */
  async hibernate(sessionId: string, how: HibernateHow, save: (session: SandboxSession) => Promise<void>): Promise<boolean> {
    await this.states(); // the hosts' drain marks, as the managers apply them
    const placed = await this.options.catalog.locate(sessionId);
    const member = placed && this.byName.get(placed.host);
    if (!placed || !member) return false;
    return member.manager.hibernate(sessionId, how, save);
  }

  /** Sessions idle for idleMs on every host up and not drained (a drained host's are departingSessionIds). */
  async idleSessionIds(idleMs: number): Promise<string[]> {
    const states = await this.states();
    const lists = await Promise.all(
      this.options.members.map((member) => {
        const state = states.get(member.spec.name);
        if (state?.down || state?.drained) return [];
        return member.manager.idleSessionIds(idleMs).catch(() => []);
      }),
    );
    return [...new Set(lists.flat())];
  }

  /** The sessions of drained hosts that no one uses now: they go to sleep at once. */
  async departingSessionIds(): Promise<string[]> {
    const states = await this.states();
    const lists = await Promise.all(
      this.options.members.filter((member) => !states.get(member.spec.name)?.down).map((member) => member.manager.departingSessionIds().catch(() => [])),
    );
    return [...new Set(lists.flat())];
  }

  openSessionIds(): string[] {
    return [...new Set(this.options.members.flatMap((member) => member.manager.openSessionIds()))];
  }

  /** The running sessions of every reachable host, with the host they run on. */
  async listSessions(): Promise<Array<SessionInfo & { host: string }>> {
    const lists = await Promise.all(
      this.options.members.map(async (member) => (await member.manager.listSessions().catch(() => [])).map((session) => ({ ...session, host: member.spec.name }))),
    );
    return lists.flat();
  }

  /** The host a session runs on (or will), placing it if it has none; refused when no host can take it. */
  async route(sessionId: string): Promise<FleetMember> {
    const states = await this.states();
    const placed = await this.options.catalog.locate(sessionId);
    if (placed) {
      const member = this.byName.get(placed.host);
      if (member && !states.get(placed.host)?.down) return member;
      // Its host is down (or no longer listed): placed afresh, where its workspace brings its files back.
      await this.options.catalog.clear(sessionId, placed.host);
      this.options.log.warn({ sessionId, host: placed.host }, "the thread's host is down: placing its session on another");
    }
    const loads = await Promise.all(this.options.members.map(async (member) => ({ member, load: await member.manager.sessionCount().catch(() => Number.POSITIVE_INFINITY) })));
    const candidate = chooseHost(loads.map(({ member, load }) => ({ name: member.spec.name, weight: member.spec.weight, maxSessions: member.spec.maxSessions ?? member.manager.maxSessions, load, state: states.get(member.spec.name) })));
    if (!candidate) throw new SandboxError("DOCKER_UNAVAILABLE", "No sandbox host can take a new session now (every host is down or drained).");
    const final = await this.options.catalog.place(sessionId, candidate);
    return this.byName.get(final.host) ?? this.byName.get(candidate)!;
  }

  /** Checks every host's engine every intervalMs, marking a host down after the configured failures in a row. */
  keepChecking(intervalMs: number): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.check(), intervalMs);
    this.timer.unref();
  }

  /** Checks every host's engine once, then reads the hosts' marks afresh (a drain is applied here). */
  async check(): Promise<void> {
    await Promise.all(
      this.options.members.map(async (member) => {
        const ok = await pTimeout(member.manager.ping(), { milliseconds: PING_TIMEOUT_MS }).then(() => true, () => false);
        const down = await this.options.states.record(member.spec.name, ok).catch(() => false);
        if (!ok) this.options.log.warn({ host: member.spec.name, down }, down ? "sandbox host is down: its threads move at their next message" : "sandbox host did not answer a health check");
      }),
    );
    this.cached = undefined;
    await this.states().catch((error: unknown) => this.options.log.warn({ err: error }, "could not read the sandbox hosts' marks"));
  }

  stopChecking(): void {
    clearInterval(this.timer);
  }

  private async on<T>(sessionId: string, task: (manager: SandboxEngine) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const member = await this.route(sessionId);
      try {
        return await task(member.manager);
      } catch (error) {
        // Its host was drained before it could start there (or as it went to sleep): placed afresh.
        // Placed on another host meanwhile (it slept, and another worker's turn placed it): routed there.
        if (error instanceof SandboxError && (error.code === "HOST_DRAINED" || error.code === "SESSION_ELSEWHERE") && attempt < PLACE_RETRIES) {
          if (error.code === "HOST_DRAINED") await this.options.catalog.clear(sessionId, member.spec.name);
          this.cached = undefined;
          continue;
        }
        // An engine that doesn't answer counts as a failed check, so a dead host is noticed at once.
        if (error instanceof SandboxError && error.code === "DOCKER_UNAVAILABLE") {
          await this.options.states.record(member.spec.name, false).catch(() => undefined);
          this.cached = undefined;
        }
        throw error;
      }
    }
  }

  /** The hosts' health and drain marks (cached briefly); each manager is told whether its host is drained. */
  private async states(): Promise<Map<string, HostState>> {
    if (this.cached && Date.now() - this.cached.at < STATE_CACHE_MS) return this.cached.states;
    const states = await this.options.states.all(this.options.members.map((member) => member.spec.name));
    this.cached = { at: Date.now(), states };
    for (const member of this.options.members) {
      // The mark applies at once; the pool is emptied meanwhile (an engine that is down must not hold up a turn).
      void member.manager.setDraining(states.get(member.spec.name)?.drained ?? false).catch((error: unknown) => this.options.log.warn({ err: error, host: member.spec.name }, "could not empty a drained host's warm pool"));
    }
    return states;
  }
}
