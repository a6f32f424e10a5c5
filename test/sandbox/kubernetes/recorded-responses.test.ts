import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createLogger } from "../../../src/log.js";
import { PodApi } from "../../../src/sandbox/kubernetes/kubernetes-api.js";
import { KubernetesProvider } from "../../../src/sandbox/kubernetes/kubernetes-provider.js";
import { ANNOTATION_SESSION_NAME, LABEL_ROLE, LABEL_SESSION, sessionHash, sessionPodName } from "../../../src/sandbox/kubernetes/pod-labels.js";
import { waitUntilRunning } from "../../../src/sandbox/kubernetes/pod-readiness.js";
import { sandboxPod } from "../../../src/sandbox/kubernetes/pod-spec.js";
import { PodTerminations } from "../../../src/sandbox/kubernetes/pod-terminations.js";
import { limitsFromConfig } from "../../../src/sandbox/sandbox-limits.js";
import { sessionNaming } from "../../../src/sandbox/session-naming.js";
import { loadConfig } from "../../../src/config.js";
import { KubernetesStandIn } from "../../support/stand-ins/kubernetes/kubernetes-stand-in.js";
import { STAND_IN_IMAGE } from "./kubernetes-fixture.js";
import { expiredWatch, imagePullBackOff, quotaExceeded, rbacForbidden, unschedulable } from "./recorded-responses.js";

const NAMESPACE = "codebot-sandboxes";
const INSTALLATION = "recorded";
const log = createLogger("silent");
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// What the backend makes of the API server's answers on paths the stand-in can't produce: each
// replayed in the form a real API server sends it, through the real client.
describe("the Kubernetes backend against recorded API responses", () => {
  const standIn = new KubernetesStandIn({ namespaces: [NAMESPACE] });
  const dir = mkdtempSync(join(tmpdir(), "codebot-k8s-"));
  let api: PodApi;
  let provider: KubernetesProvider;
  const naming = sessionNaming(INSTALLATION);
  const limits = { ...limitsFromConfig(loadConfig({ SANDBOX_MEMORY_MB: "256" })), idleTimeoutSeconds: 300 };
  const settings = { installation: INSTALLATION, image: STAND_IN_IMAGE, limits, graceSeconds: 10 };

  beforeAll(async () => {
    await standIn.start();
    const kc = new KubeConfig();
    kc.loadFromString(standIn.kubeconfig());
    api = new PodApi(kc, NAMESPACE);
    provider = new KubernetesProvider({ api, settings, naming, poolSize: 0, maxFrameBytes: 1 << 20, log });
  });
  afterAll(async () => {
    await standIn.close();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  test("a pod over the namespace's quota: the start fails with the quota's words", async () => {
    const name = naming.sessionName("over-quota");
    standIn.replay({ method: "POST", path: /\/pods$/, once: true, code: 403, body: quotaExceeded(sessionPodName(INSTALLATION, name)) });
    await expect(provider.start(name)).rejects.toMatchObject({ code: "SANDBOX_START_FAILED", message: expect.stringContaining("exceeded quota: sandboxes, requested: limits.memory=1616Mi") });
  });

  test("a worker without its Role: the setup check names the missing permission", async () => {
    standIn.replay({ method: "GET", path: /\/pods$/, once: true, code: 403, body: rbacForbidden(NAMESPACE) });
    const problem = await provider.setupProblem();
    expect(problem?.message).toContain('cannot list resource "pods" in API group "" in the namespace "codebot-sandboxes"');
    expect(await provider.setupProblem()).toBeUndefined();
  });

  test("an image the nodes can't pull: IMAGE_MISSING at once, and the pod is removed", async () => {
    const name = naming.sessionName("no-image");
    const podName = sessionPodName(INSTALLATION, name);
    standIn.replay({ method: "GET", path: new RegExp(`/pods/${podName}$`), once: true, code: 200, body: imagePullBackOff(sandboxPod(podName, settings, name)) });
    await expect(provider.start(name)).rejects.toMatchObject({ code: "IMAGE_MISSING", message: expect.stringContaining("ImagePullBackOff") });
    for (let i = 0; i < 50 && standIn.store.get(NAMESPACE, podName); i++) await pause(100);
    expect(standIn.store.get(NAMESPACE, podName)).toBeUndefined();
  });

  test("a pod no node can take: the start gives up with the scheduler's message", async () => {
    const podName = "recorded-pending";
    await api.create(sandboxPod(podName, settings, naming.sessionName("pending")));
    standIn.replay({ method: "GET", path: new RegExp(`/pods/${podName}$`), code: 200, body: unschedulable(sandboxPod(podName, settings)) });
    await expect(waitUntilRunning(api, podName, STAND_IN_IMAGE, 800)).rejects.toMatchObject({ code: "SANDBOX_START_FAILED", message: expect.stringContaining("0/3 nodes are available: 3 Insufficient memory") });
  });

  test("a watch the API server expired: the workers watch again from a fresh list, and still save an evicted pod", async () => {
    standIn.replay({ method: "GET", path: /\/pods$/, once: true, watch: true, code: 200, body: expiredWatch });
    const saved: string[] = [];
    const terminations = new PodTerminations(api, INSTALLATION, naming, async (sessionId) => void saved.push(sessionId), log).start();
    try {
      await pause(2500); // the expired watch is answered, then watched again after a pause
      expect(standIn.replaysLeft).toBe(1); // the expired watch was answered (the unschedulable pod's replay stays)
      const name = naming.sessionName("evicted-after-expiry");
      const pod = sandboxPod(sessionPodName(INSTALLATION, name), settings, name);
      expect(pod.metadata?.labels?.[LABEL_ROLE]).toBe("session");
      expect(pod.metadata?.labels?.[LABEL_SESSION]).toBe(sessionHash(name));
      expect(pod.metadata?.annotations?.[ANNOTATION_SESSION_NAME]).toBe(name);
      await api.create(pod);
      await waitUntilRunning(api, pod.metadata!.name!, STAND_IN_IMAGE, 60_000);
      const kc = new KubeConfig();
      kc.loadFromString(standIn.kubeconfig());
      await kc.makeApiClient(CoreV1Api).createNamespacedPodEviction({ name: pod.metadata!.name!, namespace: NAMESPACE, body: { metadata: { name: pod.metadata!.name!, namespace: NAMESPACE } } });
      for (let i = 0; i < 100 && !saved.length; i++) await pause(100);
      expect(saved).toEqual(["evicted-after-expiry"]);
    } finally {
      terminations.stop();
    }
  });
});
