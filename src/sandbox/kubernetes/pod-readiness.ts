import type { V1Pod } from "@kubernetes/client-node";
import { SandboxError } from "../sandbox-error.js";
import type { PodApi } from "./kubernetes-api.js";

/** Waiting reasons that won't pass by themselves: the pod is removed and the start fails. */
const IMAGE_PROBLEMS = new Set(["ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName"]);
const CONFIG_PROBLEMS = new Set(["CreateContainerConfigError", "CreateContainerError", "RunContainerError"]);

/** How long a new pod may stay Pending (scheduled, its image pulled, started). */
export const START_TIMEOUT_MS = 120_000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const isTerminating = (pod: V1Pod): boolean => Boolean(pod.metadata?.deletionTimestamp);
export const isRunning = (pod: V1Pod): boolean => pod.status?.phase === "Running" && !isTerminating(pod);
/** Running, even if being deleted: a pod in its grace period still serves (its session is being saved). */
export const isServing = (pod: V1Pod): boolean => pod.status?.phase === "Running";
export const hasEnded = (pod: V1Pod): boolean => pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";

/** Why a pending pod will never run, or undefined while it may. */
export function startProblem(pod: V1Pod, image: string): SandboxError | undefined {
  const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
  const reason = waiting?.reason ?? "";
  if (IMAGE_PROBLEMS.has(reason)) return new SandboxError("IMAGE_MISSING", `The cluster's nodes can't get the sandbox image ${image} (${reason}): push it to a registry they can pull from, and set SANDBOX_IMAGE to it.`);
  if (CONFIG_PROBLEMS.has(reason)) return new SandboxError("SANDBOX_START_FAILED", `The sandbox pod could not start (${reason}): ${(waiting?.message ?? "").slice(0, 300)}`);
  if (hasEnded(pod)) return new SandboxError("SANDBOX_START_FAILED", `The sandbox pod ended as it started (${pod.status?.containerStatuses?.[0]?.state?.terminated?.reason ?? pod.status?.phase}).`);
  return undefined;
}

/**
 * Waits until a pod runs: polled (every 100 ms, then less often) rather than watched, as a start is
 * a second or two and a watch per start would cost a connection. Fails at once on a pod that can't
 * start (an image the nodes can't pull, a refused container) and after timeoutMs on one that stays
 * Pending (no node has room: the scheduler's word is in its conditions).
 */
export async function waitUntilRunning(api: PodApi, name: string, image: string, timeoutMs: number): Promise<V1Pod | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 100; ; wait = Math.min(1000, wait * 1.5)) {
    const pod = await api.read(name);
    if (!pod || isTerminating(pod)) return undefined;
    if (isRunning(pod)) return pod;
    const problem = startProblem(pod, image);
    if (problem) throw problem;
    if (Date.now() > deadline) {
      const unscheduled = pod.status?.conditions?.find((condition) => condition.type === "PodScheduled" && condition.status === "False");
      throw new SandboxError("SANDBOX_START_FAILED", `The sandbox pod ${name} did not start within ${Math.round(timeoutMs / 1000)}s${unscheduled?.message ? `: ${unscheduled.message.slice(0, 300)}` : ""}.`);
    }
    await pause(wait);
  }
}
