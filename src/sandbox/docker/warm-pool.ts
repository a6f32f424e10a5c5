import type Docker from "dockerode";
import type { Logger } from "../../log.js";
import { GrantedWarmPool, type Adoption } from "../granted-warm-pool.js";
import type { PoolClaim } from "../sandbox-provider.js";
import type { SessionNaming } from "../session-naming.js";
import { LABEL_NAMESPACE, LABEL_SPEC } from "./container-spec.js";
import { dockerStatus, explainDockerError } from "./docker-errors.js";
import { DockerSandbox } from "./docker-sandbox.js";

/**
 * Started sandboxes waiting for a session, their Python already warm (pandas, numpy, matplotlib
 * imported): containers of the engine named with the pool's prefix, claimed through their supervisor
 * (granted-warm-pool.ts), then renamed to the session's name. Members started from an older build of
 * the image, or with another runtime or limits, are discarded, so a rebuilt image takes effect for the
 * next new session.
 */
export class DockerWarmPool extends GrantedWarmPool<DockerSandbox> {
  constructor(
    private readonly docker: Docker,
    private readonly naming: SessionNaming,
    private readonly namespace: string,
    private readonly image: string,
    size: number,
    private readonly start: (name: string) => Promise<Docker.Container>,
    log: Logger,
    maxFrameBytes: number,
    /** The spec key (runtime and limits) new sandboxes get now; members of another are discarded. */
    private readonly currentSpec: () => Promise<string>,
  ) {
    super(size, log, maxFrameBytes);
  }

  /** The running pool containers of the current image, runtime and limits, oldest (most likely warm) first. */
  async members(): Promise<DockerSandbox[]> {
    return (await this.memberInfos()).map((info) => new DockerSandbox(this.docker.getContainer(info.Id)));
  }

  /** Claims a warm member for sessionName. "taken": a container already has that name. An engine that fails is explained (explainDockerError). */
  override async claim(sessionName: string): Promise<PoolClaim> {
    return super.claim(sessionName).catch((error: unknown) => {
      throw explainDockerError(error, this.image);
    });
  }

  protected async adopt(member: DockerSandbox, sessionName: string): Promise<Adoption> {
    try {
      await member.container.rename({ name: sessionName });
      return "adopted";
    } catch (error) {
      const status = dockerStatus(error);
      if (status === 409) return "taken";
      if (status === 404) return "lost";
      throw error;
    }
  }

  protected async remove(member: DockerSandbox): Promise<void> {
    await member.container.remove({ force: true, v: true });
  }

  protected async startMember(): Promise<void> {
    await this.start(this.naming.poolName());
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
}
