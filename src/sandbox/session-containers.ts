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
