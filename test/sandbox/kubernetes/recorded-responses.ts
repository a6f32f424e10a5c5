/**
 * Responses of a real kube-apiserver on paths the stand-in can't produce, in the shapes and words
 * the API server sends them (messages as the admission plugins, the RBAC authorizer, the scheduler,
 * the kubelet and the watch cache of Kubernetes 1.31 write them; the same forms are in the API
 * reference and the Kubernetes documentation's examples). Names are this test's.
 */
const status = (code: number, reason: string, message: string, details: Record<string, unknown>) => ({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, details, code });

/** ResourceQuota admission: a pod over the namespace's quota. */
export const quotaExceeded = (pod: string) =>
  status(403, "Forbidden", `pods "${pod}" is forbidden: exceeded quota: sandboxes, requested: limits.memory=1616Mi, used: limits.memory=95Gi, limited: limits.memory=96Gi`, { name: pod, kind: "pods" });

/** RBAC: a worker whose Role was not bound (or not applied) listing pods. */
export const rbacForbidden = (namespace: string) =>
  status(403, "Forbidden", `pods is forbidden: User "system:serviceaccount:codebot:codebot-worker" cannot list resource "pods" in API group "" in the namespace "${namespace}"`, { kind: "pods" });

/** A pod whose image the node can't pull, as the kubelet reports it. */
export function imagePullBackOff(pod: any): any {
  return {
    ...pod,
    status: {
      phase: "Pending",
      conditions: [{ type: "PodScheduled", status: "True" }, { type: "Ready", status: "False", reason: "ContainersNotReady", message: "containers with unready status: [sandbox]" }],
      containerStatuses: [{ name: "sandbox", image: pod.spec.containers[0].image, imageID: "", ready: false, restartCount: 0, started: false, state: { waiting: { reason: "ImagePullBackOff", message: `Back-off pulling image "${pod.spec.containers[0].image}"` } } }],
      qosClass: "Guaranteed",
    },
  };
}

/** A pod no node has room for, as the scheduler leaves it. */
export function unschedulable(pod: any): any {
  return {
    ...pod,
    spec: { ...pod.spec, nodeName: undefined },
    status: {
      phase: "Pending",
      conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod." }],
      qosClass: "Guaranteed",
    },
  };
}

/** The watch cache's answer to a watch from a resourceVersion it no longer has: one ERROR event, then the end. */
export const expiredWatch = [{ type: "ERROR", object: status(410, "Expired", "too old resource version: 1000 (1523)", {}) }];
