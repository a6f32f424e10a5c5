import type Docker from "dockerode";
import type { ExecutionResult, SandboxFile } from "../core/execution-result.js";
import type { Logger } from "../log.js";
import { containerSpec, LABEL_NAMESPACE } from "./container-spec.js";
import { dockerStatus, explainDockerError } from "./docker-errors.js";
import type { UploadedFile, UploadSource } from "./file-transfer.js";
import { RunnerConnection } from "./runner-connection.js";
import { SandboxError } from "./sandbox-error.js";
import type { SandboxLimits } from "./sandbox-limits.js";
import { READY_TIMEOUT_MS, SandboxSession, type ExecuteOptions } from "./sandbox-session.js";
import { sessionNaming, type SessionNaming } from "./session-naming.js";
import { WarmPool } from "./warm-pool.js";

export interface SandboxManagerOptions {
  docker: Docker;
  image: string;
  runtime?: string;
  namespace: string;
  limits: SandboxLimits;
  poolSize: number;
  maxSessions: number;
  log: Logger;
}

export interface SessionInfo {
  sessionId: string;
  containerId: string;
  createdAt: Date;
  status: string;
}

const NAME_CONFLICT_RETRIES = 20;

/**
 * Creates, finds, uses and ends sandbox sessions. A session is a container named after its id,
 * so every codebot process (workers, `codebot exec`) reaches the same one; sessions end themselves
 * after the idle timeout (the container exits and Docker removes it with its /mnt/data volume).
 */
export class SandboxManager {
  private readonly naming: SessionNaming;
  private readonly pool: WarmPool;
  private readonly open = new Map<string, Promise<SandboxSession>>();

  constructor(private readonly options: SandboxManagerOptions) {
    this.naming = sessionNaming(options.namespace);
    this.pool = new WarmPool(options.docker, this.naming, options.namespace, options.image, options.poolSize, (name) => this.startContainer(name), options.log);
  }

  /** The live session with this id, attaching to or starting its sandbox as needed. */
  session(sessionId: string): Promise<SandboxSession> {
    const existing = this.open.get(sessionId);
    if (existing) return existing;
    const opening = this.openSession(sessionId);
    this.open.set(sessionId, opening);
    opening.then(
      (session) => session.onClose(() => this.open.get(sessionId) === opening && this.open.delete(sessionId)),
      () => this.open.delete(sessionId),
    );
    return opening;
  }

  async execute(sessionId: string, code: string, options?: ExecuteOptions): Promise<ExecutionResult> {
    return (await this.session(sessionId)).execute(code, options);
  }

  async upload(sessionId: string, sources: UploadSource[]): Promise<UploadedFile[]> {
    return (await this.session(sessionId)).upload(sources);
  }

  async download(sessionId: string, path: string): Promise<Buffer> {
    return (await this.session(sessionId)).download(path);
  }

  async listFiles(sessionId: string): Promise<SandboxFile[]> {
    return (await this.session(sessionId)).listFiles();
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
    const opening = this.open.get(sessionId);
    this.open.delete(sessionId);
    opening?.then((session) => session.detach(), () => undefined);
    try {
      await this.docker.getContainer(this.naming.sessionName(sessionId)).remove({ force: true, v: true });
      return true;
    } catch (error) {
      if (dockerStatus(error) === 404) return false;
      if (dockerStatus(error) === 409) return true; // removal already in progress
      throw explainDockerError(error, this.options.image);
    }
  }

  /** Fills the warm pool and waits until every pooled sandbox's Python is ready. */
  async warmUp(): Promise<void> {
    await this.pool.refill();
    const members = await this.pool.members();
    await Promise.all(
      members.map(async (member) => {
        const connection = await RunnerConnection.ready(this.docker.getContainer(member.Id), this.options.log, READY_TIMEOUT_MS);
        connection.close();
      }),
    );
  }

  /** Detaches from every session (they keep running until idle) and finishes pool refills. */
  async close(): Promise<void> {
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

  private async openSession(sessionId: string): Promise<SandboxSession> {
    const name = this.naming.sessionName(sessionId);
    const log = this.options.log.child({ sessionId });
    for (let attempt = 0; attempt < NAME_CONFLICT_RETRIES; attempt++) {
      const container = await this.findRunning(name);
      if (container) return SandboxSession.open(sessionId, container, this.options.limits, log);
      await this.ensureCapacity();
      const claim = await this.pool.claim(name).catch((error) => {
        throw explainDockerError(error, this.options.image);
      });
      if (claim.kind === "claimed") {
        void this.pool.refill();
        return SandboxSession.open(sessionId, claim.container, this.options.limits, log, claim.connection);
      }
      if (claim.kind === "taken") continue; // another process is starting this session: attach to it
      try {
        const started = await this.startContainer(name);
        void this.pool.refill();
        return SandboxSession.open(sessionId, started, this.options.limits, log);
      } catch (error) {
        if (dockerStatus(error) !== 409) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100)); // a stopped namesake is being removed
    }
    throw new SandboxError("SANDBOX_START_FAILED", `Could not start or find the sandbox for session ${sessionId}.`);
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

  private async ensureCapacity(): Promise<void> {
    const live = (await this.listSessions()).length;
    if (live >= this.options.maxSessions) {
      const idleMinutes = Math.round(this.options.limits.idleTimeoutSeconds / 60);
      throw new SandboxError(
        "SESSION_LIMIT",
        `All ${this.options.maxSessions} sandbox sessions are in use. Try again later: a session ends after ${idleMinutes} minutes without use.`,
      );
    }
  }

  private async startContainer(name: string): Promise<Docker.Container> {
    const spec = containerSpec({ name, image: this.options.image, namespace: this.options.namespace, limits: this.options.limits, runtime: this.options.runtime });
    try {
      const container = await this.docker.createContainer(spec);
      await container.start();
      return container;
    } catch (error) {
      throw explainDockerError(error, this.options.image);
    }
  }
}
