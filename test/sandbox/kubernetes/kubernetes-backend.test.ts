import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe } from "vitest";
import { sessionNaming } from "../../../src/sandbox/session-naming.js";
import { useDurableRuntime } from "../../support/durable-runtime.js";
import { sandboxRuntimes } from "../../support/runtimes.js";
import { KubernetesStandIn } from "../../support/stand-ins/kubernetes/kubernetes-stand-in.js";
import { backendContract, CONTRACT_SETTINGS } from "../backend-contract.js";
import { sessionPods, STAND_IN_IMAGE } from "./kubernetes-fixture.js";

const NAMESPACE = "codebot-sandboxes";

// The backend contract against the Kubernetes backend, through @kubernetes/client-node and the API
// stand-in (each pod a container of the local engine), under each runtime: gVisor's as RuntimeClass gvisor.
describe.each(await sandboxRuntimes())("under %s", (runtime) => {
  // RuntimeClass gvisor's handler: this gVisor runtime of the engine (runsc, or another registered one).
  const standIn = new KubernetesStandIn({ namespaces: [NAMESPACE], baselineNamespaces: [NAMESPACE], nodes: ["node-a", "node-b"], runtimeClasses: { gvisor: runtime === "runc" ? "runsc" : runtime } });
  const dir = mkdtempSync(join(tmpdir(), "codebot-k8s-"));
  beforeAll(async () => {
    await standIn.start();
    standIn.writeKubeconfig(join(dir, "kubeconfig"));
  });
  // Registered before the runtime's hooks, so it runs after them (the runtime removes its pods first).
  afterAll(async () => {
    await standIn.close();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
  const built = useDurableRuntime(
    { ...CONTRACT_SETTINGS, SANDBOX_BACKEND: "kubernetes", SANDBOX_K8S_NAMESPACE: NAMESPACE, SANDBOX_IMAGE: STAND_IN_IMAGE, SANDBOX_K8S_GRACE_SECONDS: "10" },
    () => ({ KUBECONFIG: join(dir, "kubeconfig"), ...(runtime === "runc" ? {} : { SANDBOX_K8S_RUNTIME_CLASS: "gvisor" }) }),
  );
  backendContract(`Kubernetes, pods over the API stand-in (${runtime})`, () => {
    const { runtime: sandboxes, config } = built;
    return {
      durable: sandboxes.durable!,
      backend: sandboxes.backend,
      engines: sandboxes.managers,
      events: sandboxes.events,
      session: (sessionId) => sandboxes.manager.session(sessionId),
      // A pod deleted at once behind the backend's back (its node lost, `kubectl delete --grace-period=0`).
      loseSandbox: async (sessionId) => {
        const name = sessionNaming(config.SANDBOX_NAMESPACE).sessionName(sessionId);
        for (const pod of sessionPods(standIn, NAMESPACE, config.SANDBOX_NAMESPACE, name)) standIn.kubelet.delete(NAMESPACE, pod, 0);
        await standIn.kubelet.settle();
      },
      runtime,
    };
  });
});
