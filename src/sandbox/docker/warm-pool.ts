import { randomUUID } from "node:crypto";
import type Docker from "dockerode";
import type { Logger } from "../../log.js";
import { RunnerConnection } from "../runner-connection.js";
import { claimAnswerSchema } from "../runner-protocol.js";
import type { PoolClaim, WarmPool } from "../sandbox-provider.js";
import type { SessionNaming } from "../session-naming.js";
import { LABEL_NAMESPACE, LABEL_SPEC } from "./container-spec.js";
import { dockerStatus, explainDockerError } from "./docker-errors.js";
import { DockerSandbox } from "./docker-sandbox.js";

const CLAIM_TIMEOUT_MS = 120_000;

/**
 * Started sandboxes waiting for a session, their Python already warm (pandas, numpy, matplotlib
 * imported). The pool lives in Docker, not in this process, so any codebot process can share it.
 * A member is claimed by asking its supervisor, which grants it to exactly one claimant (a Docker
 * rename alone is not atomic: two concurrent renames of one container both succeed); the winner
 * then renames it to the session's name.
 * Members started from an older build of the image are discarded, so a rebuilt image takes effect
 * for the next new session.
 */
export class DockerWarmPool implements WarmPool {
  private refilling: Promise<void> | undefined;
  /** Held empty (its engine is drained): nothing is started, and nothing is claimed. */
  private held = false;

  constructor(
    private readonly docker: Docker,
    private readonly naming: SessionNaming,
    private readonly namespace: string,
    private readonly image: string,
    private readonly size: number,
    private readonly start: (name: string) => Promise<Docker.Container>,
    private readonly log: Logger,
    private readonly maxFrameBytes: number,
    /** The spec key (runtime and limits) new sandboxes get now; members of another are discarded. */
    private readonly currentSpec: () => Promise<string>,
  ) {}

  /** The running pool containers of the current image, runtime and limits, oldest (most likely warm) first. */
  async members(): Promise<DockerSandbox[]> {
    return (await this.memberInfos()).map((info) => new DockerSandbox(this.docker.getContainer(info.Id)));
  }

  private async memberInfos(): Promise<Docker.ContainerInfo[]> {
    const [list, current, spec] = await Promise.all([
      this.docker.listContainers({ filters: { label: [`${LABEL_NAMESPACE}=${this.namespace}`], status: ["running"] } }),
      this.docker
        .getImage(this.image)
        .inspect()
        .then((info) => info.Id, () => undefined),
      this.currentSpec().catch(() => undefined),
    ]);
    const pooled = list.filter((info) => info.Names.some((name) => name.replace(/^\//, "").startsWith(this.naming.poolPrefix)));
    if (spec === undefined) return []; // the runtime can't be told now: use none, discard none
    const usable = (info: Docker.ContainerInfo) => info.ImageID === current && info.Labels[LABEL_SPEC] === spec;
    for (const stale of pooled.filter((info) => !usable(info))) {
      this.log.info({ container: stale.Id.slice(0, 12) }, "discarding a warm sandbox of an older image, another runtime or other limits");
      void this.docker.getContainer(stale.Id).remove({ force: true, v: true }).catch(() => undefined);
    }
    return pooled.filter(usable).sort((a, b) => a.Created - b.Created);
  }

  /** Claims a warm member for sessionName. "taken": a container already has that name. An engine that fails is explained (explainDockerError). */
  async claim(sessionName: string): Promise<PoolClaim> {
    return this.claimMember(sessionName).catch((error: unknown) => {
      throw explainDockerError(error, this.image);
    });
  }

  private async claimMember(sessionName: string): Promise<PoolClaim> {
    if (this.size === 0 || this.held) return { kind: "empty" };
    // Each claim is its own claimant: two processes opening one session at once can't both be granted a member.
    const claimant = `${sessionName}#${randomUUID()}`;
    for (const member of await this.memberInfos()) {
      const container = this.docker.getContainer(member.Id);
      const connection = await this.grant(container, claimant);
      if (!connection) continue;
      try {
        await container.rename({ name: sessionName });
        this.log.debug({ container: member.Id.slice(0, 12), session: sessionName }, "claimed a warm sandbox");
        return { kind: "claimed", sandbox: new DockerSandbox(container), connection };
      } catch (error) {
        connection.close();
        const status = dockerStatus(error);
        if (status === 409) {
          // The session was started elsewhere meanwhile; this member is claimed for it and of no further use.
          await container.remove({ force: true, v: true }).catch(() => undefined);
          return { kind: "taken" };
        }
        if (status !== 404) throw error;
      }
    }
    return { kind: "empty" };
  }

  /** Starts containers until the pool has its size; concurrent calls share one refill. */
  refill(): Promise<void> {
    this.refilling ??= this.topUp().finally(() => {
      this.refilling = undefined;
    });
    return this.refilling;
  }

  /**
   * Held: the pool is emptied (a refill in flight finishes first) and stays empty until released;
   * released: the next refill fills it again. A member is removed only once its supervisor granted
   * it to the removal, so one that a session (of any process) claimed meanwhile is left to it.
   */
  async hold(held: boolean): Promise<void> {
    this.held = held;
    if (!held) return;
    await this.refilling?.catch(() => undefined);
    const removed = await Promise.all(
      (await this.memberInfos()).map(async (member) => {
        const container = this.docker.getContainer(member.Id);
        const connection = await this.grant(container, `drain#${randomUUID()}`);
        connection?.close();
        return connection ? container.remove({ force: true, v: true }).then(() => 1, () => 0) : 0;
      }),
    );
    const count = removed.reduce((a: number, b: number) => a + b, 0);
    if (count) this.log.info({ removed: count }, "emptied the warm pool of a drained engine");
  }

  /** Asks a member's supervisor to grant it to claimant (it grants a member once, ever); the connection when it did. */
  private async grant(container: Docker.Container, claimant: string): Promise<RunnerConnection | undefined> {
    const connection = await RunnerConnection.attach(new DockerSandbox(container), this.log, this.maxFrameBytes).catch(() => undefined);
    if (!connection) return undefined;
    const answer = await connection.request({ op: "claim", session: claimant }, claimAnswerSchema, CLAIM_TIMEOUT_MS).catch(() => undefined);
    if (answer?.granted) return connection;
    connection.close();
    return undefined;
  }

  private async topUp(): Promise<void> {
    const missing = this.held ? 0 : this.size - (await this.memberInfos()).length;
    for (let i = 0; i < missing && !this.held; i++) {
      try {
        await this.start(this.naming.poolName());
      } catch (error) {
        this.log.warn({ err: error }, "could not start a warm sandbox");
        return;
      }
    }
  }
}
