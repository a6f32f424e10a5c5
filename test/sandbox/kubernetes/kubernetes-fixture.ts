import { LABEL_INSTALLATION, LABEL_SESSION, sessionHash } from "../../../src/sandbox/kubernetes/pod-labels.js";
import type { KubernetesStandIn } from "../../support/stand-ins/kubernetes/kubernetes-stand-in.js";

/** The sandbox image, as built from sandbox-image/ (its supervisor's "write" request moves files into pods). */
export const STAND_IN_IMAGE = process.env.SANDBOX_IMAGE ?? "codebot-sandbox:latest";

/** The names of a session's pods in the stand-in's store. */
export function sessionPods(standIn: KubernetesStandIn, namespace: string, installation: string, sessionName: string): string[] {
  return standIn.store
    .list(namespace)
    .filter((pod) => pod.metadata.labels?.[LABEL_INSTALLATION] === installation && pod.metadata.labels?.[LABEL_SESSION] === sessionHash(sessionName))
    .map((pod) => pod.metadata.name as string);
}
