import type Docker from "dockerode";
import { LABEL_NAMESPACE } from "./container-spec.js";
import { dockerStatus, explainDockerError } from "./docker-errors.js";

/** Removes a container and its volume now; false if there was none. */
export async function removeContainer(docker: Docker, name: string, image: string): Promise<boolean> {
  try {
    await docker.getContainer(name).remove({ force: true, v: true });
    return true;
  } catch (error) {
    if (dockerStatus(error) === 404) return false;
    if (dockerStatus(error) === 409) return true; // removal already in progress
    throw explainDockerError(error, image);
  }
}

/** Names of the running containers of a namespace whose name starts with prefix. */
export async function runningContainerNames(docker: Docker, namespace: string, prefix: string): Promise<string[]> {
  const running = await docker.listContainers({ filters: { label: [`${LABEL_NAMESPACE}=${namespace}`], status: ["running"] } });
  return running.flatMap((info) => info.Names.map((name) => name.replace(/^\//, ""))).filter((name) => name.startsWith(prefix));
}

/**
 * Removes what sessions of a namespace left behind when they did not end normally (an engine
 * restart kills them without their auto-removal): stopped containers, and their /mnt/data volumes
 * that no container uses any more. Returns how many of each were removed.
 */
export async function removeLeftovers(docker: Docker, namespace: string): Promise<{ containers: number; volumes: number }> {
  const label = `${LABEL_NAMESPACE}=${namespace}`;
  const stopped = await docker.listContainers({ all: true, filters: { label: [label], status: ["exited", "dead", "created"] } });
  const removed = await Promise.all(stopped.map((info) => docker.getContainer(info.Id).remove({ force: true, v: true }).then(() => 1, () => 0)));
  const { Volumes: volumes = [] } = await docker.listVolumes({ filters: { label: [label], dangling: ["true"] } });
  const dropped = await Promise.all(volumes.map((volume) => docker.getVolume(volume.Name).remove().then(() => 1, () => 0)));
  return { containers: removed.reduce((a: number, b: number) => a + b, 0), volumes: dropped.reduce((a: number, b: number) => a + b, 0) };
}
