import { CoreV1Api, KubeConfig, VersionApi, type V1Pod } from "@kubernetes/client-node";
import { explainKubernetesError } from "./pod-errors.js";

/** Where the worker reaches its cluster: a kubeconfig file (KUBECONFIG), else the pod's own service account (in-cluster). */
export interface ClusterAccess {
  kubeconfig?: string;
  /** Running in a pod (KUBERNETES_SERVICE_HOST set by the kubelet): the service account's token and CA. */
  inCluster: boolean;
}

export function loadKubeConfig(access: ClusterAccess): KubeConfig {
  const kc = new KubeConfig();
  if (access.kubeconfig) kc.loadFromFile(access.kubeconfig);
  else if (access.inCluster) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

/** The calls the backend makes on pods of its namespace, every failure explained (pod-errors.ts). */
export class PodApi {
  readonly core: CoreV1Api;

  constructor(
    readonly kc: KubeConfig,
    readonly namespace: string,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  private explained<T>(call: Promise<T>): Promise<T> {
    return call.catch((error: unknown) => {
      throw Object.assign(explainKubernetesError(error, this.namespace), { status: (error as { code?: number })?.code });
    });
  }

  create(pod: V1Pod): Promise<V1Pod> {
    return this.explained(this.core.createNamespacedPod({ namespace: this.namespace, body: pod }));
  }

  /** The pod, or undefined when there is none (404). */
  read(name: string): Promise<V1Pod | undefined> {
    return this.explained(this.core.readNamespacedPod({ name, namespace: this.namespace })).catch((error: { status?: number }) => {
      if (error.status === 404) return undefined;
      throw error;
    });
  }

  async list(labelSelector: string): Promise<V1Pod[]> {
    return (await this.explained(this.core.listNamespacedPod({ namespace: this.namespace, labelSelector }))).items;
  }

  /** Deletes a pod (gracePeriodSeconds 0: at once); false when there was none. */
  delete(name: string, gracePeriodSeconds?: number): Promise<boolean> {
    return this.explained(this.core.deleteNamespacedPod({ name, namespace: this.namespace, ...(gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds }) })).then(
      () => true,
      (error: { status?: number }) => {
        if (error.status === 404) return false;
        throw error;
      },
    );
  }

  /** A JSON Patch (RFC 6902) of a pod's metadata; its "test" operations make it conditional (a failed one: 409 or 422). */
  patch(name: string, operations: Array<{ op: string; path: string; value?: unknown }>): Promise<V1Pod> {
    return this.explained(this.core.patchNamespacedPod({ name, namespace: this.namespace, body: operations }));
  }

  async version(): Promise<string> {
    return (await this.explained(this.kc.makeApiClient(VersionApi).getCode())).gitVersion;
  }
}
