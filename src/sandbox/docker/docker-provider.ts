import type Docker from "dockerode";
import type { Logger } from "../../log.js";
import type { SandboxError } from "../sandbox-error.js";
import type { SessionInfo } from "../sandbox-engine.js";
import { maxFrameBytes, type SandboxLimits } from "../sandbox-limits.js";
import type { SandboxProvider } from "../sandbox-provider.js";
import type { SessionNaming } from "../session-naming.js";
import { containerSpec, LABEL_NAMESPACE, specKey } from "./container-spec.js";
import { dockerStatus, explainDockerError } from "./docker-errors.js";
import { DockerSandbox } from "./docker-sandbox.js";
import { sandboxSetupProblem } from "./engine-problem.js";
import { removeContainer, removeLeftovers, runningContainerNames } from "./session-containers.js";
import { DockerWarmPool } from "./warm-pool.js";

export interface DockerProviderOptions {
  docker: Docker;
  image: string;
  /** The OCI runtime (e.g. runsc), or how to find it out once (SANDBOX_RUNTIME=auto asks the engine). */
  runtime?: string | (() => Promise<string>);
  /** SANDBOX_RUNTIME as configured ("auto", "runsc"...), for the setup check. */
  runtimeSetting?: string;
  namespace: string;
  naming: SessionNaming;
  limits: SandboxLimits;
  poolSize: number;
  log: Logger;
}

/**
 * One Docker engine's sandboxes: each a hardened container (container-spec.ts) named after its
 * session, labelled with its namespace, removed with its /mnt/data volume when it ends; a warm pool
 * of containers claimed through their supervisor (warm-pool.ts).
 */
export class DockerProvider implements SandboxProvider {
  readonly pool: DockerWarmPool;

  constructor(private readonly options: DockerProviderOptions) {
    const { docker, naming, namespace, image, poolSize, log, limits } = options;
    this.pool = new DockerWarmPool(docker, naming, namespace, image, poolSize, (name) => this.startContainer(name), log, maxFrameBytes(limits), async () => specKey(limits, await this.runtime()));
  }

  /** The engine's client (tests and benchmarks reach the containers through it). */
  get docker(): Docker {
    return this.options.docker;
  }

  async findRunning(name: string): Promise<DockerSandbox | undefined> {
    const container = this.docker.getContainer(name);
    try {
      const info = await container.inspect();
      if (info.State.Running) return new DockerSandbox(container);
      await container.remove({ force: true, v: true }).catch(() => undefined);
      return undefined;
    } catch (error) {
      if (dockerStatus(error) === 404) return undefined;
      throw explainDockerError(error, this.options.image);
    }
  }

  async start(name: string): Promise<DockerSandbox | "exists"> {
    try {
      return new DockerSandbox(await this.startContainer(name));
    } catch (error) {
      if (dockerStatus(error) === 409) return "exists";
      throw error;
    }
  }

  remove(name: string): Promise<boolean> {
    return removeContainer(this.docker, name, this.options.image);
  }

  runningSessionNames(): Promise<string[]> {
    return runningContainerNames(this.docker, this.options.namespace, this.options.naming.sessionPrefix);
  }

  async listSessions(): Promise<SessionInfo[]> {
    const { naming } = this.options;
    const containers = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL_NAMESPACE}=${this.options.namespace}`] } });
    return containers.flatMap((info) => {
      const sessionId = info.Names.map((name) => naming.sessionIdFromName(name)).find((id) => id !== undefined);
      const hashed = info.Names.some((name) => name.replace(/^\//, "").startsWith(naming.sessionPrefix));
      if (sessionId === undefined && !hashed) return [];
      const fallback = (info.Names[0] ?? "").replace(/^\//, "");
      return [{ sessionId: sessionId ?? fallback, sandboxId: info.Id.slice(0, 12), createdAt: new Date(info.Created * 1000), status: info.Status }];
    });
  }

  removeLeftovers(): Promise<Record<string, number>> {
    return removeLeftovers(this.docker, this.options.namespace);
  }

  async removeAll(): Promise<void> {
    const containers = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL_NAMESPACE}=${this.options.namespace}`] } });
    await Promise.all(containers.map((info) => this.docker.getContainer(info.Id).remove({ force: true, v: true }).catch(() => undefined)));
  }

  async ping(): Promise<void> {
    await this.docker.ping();
  }

  setupProblem(): Promise<SandboxError | undefined> {
    return sandboxSetupProblem(this.docker, this.options.image, this.options.runtimeSetting);
  }

  private async runtime(): Promise<string | undefined> {
    const { runtime } = this.options;
    return typeof runtime === "function" ? runtime() : runtime;
  }

  private async startContainer(name: string): Promise<Docker.Container> {
    const { image, namespace, limits } = this.options;
    const spec = containerSpec({ name, image, namespace, limits, runtime: await this.runtime() });
    try {
      const container = await this.docker.createContainer(spec);
      await container.start();
      return container;
    } catch (error) {
      throw explainDockerError(error, image);
    }
  }
}
