import type { KubernetesConfig, SandboxConfig } from "../../config.js";
import type { ProviderFactory } from "../create-sandbox-manager.js";
import { maxFrameBytes } from "../sandbox-limits.js";
import { loadKubeConfig, PodApi } from "./kubernetes-api.js";
import { KubernetesProvider } from "./kubernetes-provider.js";
import { PodTerminations, type TerminatingSession } from "./pod-terminations.js";

/** What the composition root may ask of the Kubernetes backend beyond its provider: who to tell of pods being deleted under their sessions. */
export interface KubernetesBackendHooks {
  /** A session's pod is being deleted (an eviction, a node drain): save it within the pod's grace period. */
  onTerminating?: TerminatingSession;
}

/**
 * The Kubernetes backend's provider factory (SANDBOX_BACKEND=kubernetes), given its config section
 * ([kubernetes]): pods in SANDBOX_K8S_NAMESPACE through the API server of KUBECONFIG, or
 * in-cluster (the worker's service account) in a pod. With onTerminating, the namespace's session
 * pods are watched for deletions once the workers' upkeep starts (a command such as `codebot
 * sessions` never watches), and the one worker that marks a pod first saves its session
 * (pod-terminations.ts).
 */
export function kubernetesProviders(cluster: KubernetesConfig, hooks: KubernetesBackendHooks = {}): ProviderFactory {
  return ({ config, naming, limits, log }) => {
    const api = new PodApi(loadKubeConfig({ kubeconfig: cluster.KUBECONFIG, inCluster: Boolean(cluster.KUBERNETES_SERVICE_HOST) }), cluster.SANDBOX_K8S_NAMESPACE);
    const settings = podSettings(config, cluster, limits);
    const terminations = hooks.onTerminating && new PodTerminations(api, config.SANDBOX_NAMESPACE, naming, hooks.onTerminating, log);
    return new KubernetesProvider({ api, settings: { ...settings, limits }, naming, poolSize: config.SANDBOX_POOL_SIZE, maxFrameBytes: maxFrameBytes(limits), log, terminations });
  };
}

function podSettings(config: SandboxConfig, cluster: KubernetesConfig, limits: Parameters<ProviderFactory>[0]["limits"]) {
  return {
    installation: config.SANDBOX_NAMESPACE,
    image: config.SANDBOX_IMAGE,
    limits,
    runtimeClass: cluster.SANDBOX_K8S_RUNTIME_CLASS,
    seccompProfile: cluster.SANDBOX_K8S_SECCOMP_PROFILE,
    graceSeconds: cluster.SANDBOX_K8S_GRACE_SECONDS,
  };
}
