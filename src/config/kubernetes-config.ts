import { z } from "zod";
import { integer } from "./config-fields.js";

/** The Kubernetes backend's cluster (src/sandbox/kubernetes/, SANDBOX_BACKEND=kubernetes): `[kubernetes]` in .env.example. */
export const kubernetesSchema = z.object({
  /** The namespace sandbox pods run in (deploy/kubernetes makes it, with its quota, policy and the workers' Role). */
  SANDBOX_K8S_NAMESPACE: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "a Kubernetes namespace name (lowercase letters, digits, dashes)").default("codebot-sandboxes"),
  /** The RuntimeClass of sandbox pods (gvisor); unset: the nodes' default runtime. */
  SANDBOX_K8S_RUNTIME_CLASS: z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, "a RuntimeClass name, e.g. gvisor").optional(),
  /** A seccomp profile on the nodes, relative to the kubelet's seccomp root (Localhost); unset: RuntimeDefault. */
  SANDBOX_K8S_SECCOMP_PROFILE: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,252}$/, "a path relative to the kubelet's seccomp root, e.g. profiles/codebot.json")
    .refine((value) => !value.split("/").includes(".."), "no .. in the path")
    .optional(),
  /** A sandbox pod's grace period: an evicted or drained pod waits this long for its session to be saved. */
  SANDBOX_K8S_GRACE_SECONDS: integer(30, 5, 3600),
  /** A kubeconfig file for the Kubernetes backend; unset in a pod: its service account (in-cluster). */
  KUBECONFIG: z.string().optional(),
  /** Set by Kubernetes in every pod: the Kubernetes backend then reaches the API server in-cluster. */
  KUBERNETES_SERVICE_HOST: z.string().optional(),
});

export type KubernetesConfig = Readonly<z.infer<typeof kubernetesSchema>>;
