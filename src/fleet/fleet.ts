import type { ExecutionResult, SandboxFile } from "../core/execution-result.js";
import type { Logger } from "../log.js";
import type { UploadedFile, UploadSource } from "../sandbox/file-transfer.js";
import { SandboxError } from "../sandbox/sandbox-error.js";
import type { SandboxLimits } from "../sandbox/sandbox-limits.js";
import type { SandboxManager, SessionInfo } from "../sandbox/sandbox-manager.js";
import type { ExecuteOptions, SandboxSession } from "../sandbox/sandbox-session.js";
import type { SessionUse } from "../sandbox/sandboxes.js";
import type { AfterUse, HibernateHow, SessionBackend } from "../sandbox/session-backend.js";
import type { HostSpec } from "./host-spec.js";
import type { HostState, HostStates } from "./host-states.js";
import { chooseHost } from "./placement.js";
import type { SessionCatalog } from "./session-catalog.js";

/** One engine of the fleet and the manager of its sessions. */
export interface FleetMember {
  spec: HostSpec;
  manager: SandboxManager;
  ping(): Promise<unknown>;
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

/**
 * Sandbox sessions across several Docker engines. A thread's session lives where the catalog
 * (Redis) places it, whichever worker takes its turn; new threads go to the healthy, undrained host
 * with the most room. A thread whose host is down is placed afresh at its next use (durable
 * workspaces bring its files back there); a drained host's sessions keep serving until they go to
 * sleep, then move. Nothing but a reachable engine with the sandbox image is needed on a host.
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

  /** Puts the session to sleep on its host; its place is then cleared, so its next use may go anywhere. */
  async hibernate(sessionId: string, how: HibernateHow, save: (session: SandboxSession) => Promise<void>): Promise<boolean> {
    const placed = await this.options.catalog.locate(sessionId);
    const member = placed && this.byName.get(placed.host);
    if (!placed || !member) return false;
    const slept = await member.manager.hibernate(sessionId, how, save);
    if (slept) await this.options.catalog.clear(sessionId, placed.host);
    return slept;
  }

  /** Sessions idle for idleMs on every host; on a drained host, every session not in use (they move). */
  async idleSessionIds(idleMs: number): Promise<string[]> {
    const states = await this.states();
    const lists = await Promise.all(
      this.options.members.map((member) => {
        const state = states.get(member.spec.name);
        if (state?.down) return [];
        return member.manager.idleSessionIds(state?.drained ? 0 : idleMs).catch(() => []);
      }),
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

  async check(): Promise<void> {
    await Promise.all(
      this.options.members.map(async (member) => {
        const ok = await withTimeout(member.ping(), PING_TIMEOUT_MS).then(() => true, () => false);
        const down = await this.options.states.record(member.spec.name, ok).catch(() => false);
        if (!ok) this.options.log.warn({ host: member.spec.name, down }, down ? "sandbox host is down: its threads move at their next message" : "sandbox host did not answer a health check");
      }),
    );
    this.cached = undefined;
  }

  stopChecking(): void {
    clearInterval(this.timer);
  }

  private async on<T>(sessionId: string, task: (manager: SandboxManager) => Promise<T>): Promise<T> {
    const member = await this.route(sessionId);
    try {
      return await task(member.manager);
    } catch (error) {
      // An engine that doesn't answer counts as a failed check, so a dead host is noticed at once.
      if (error instanceof SandboxError && error.code === "DOCKER_UNAVAILABLE") {
        await this.options.states.record(member.spec.name, false).catch(() => undefined);
        this.cached = undefined;
      }
      throw error;
    }
  }

  private async states(): Promise<Map<string, HostState>> {
    if (this.cached && Date.now() - this.cached.at < STATE_CACHE_MS) return this.cached.states;
    const states = await this.options.states.all(this.options.members.map((member) => member.spec.name));
    this.cached = { at: Date.now(), states };
    return states;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error("timeout")), ms)))]).finally(() => clearTimeout(timer));
}
