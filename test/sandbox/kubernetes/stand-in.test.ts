import { get } from "node:https";
import { PassThrough } from "node:stream";
import { Attach, CoreV1Api, KubeConfig, Watch, type V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubernetesStandIn } from "../../support/stand-ins/kubernetes/kubernetes-stand-in.js";

const NAMESPACE = "codebot-sandboxes";
const IMAGE = process.env.SANDBOX_IMAGE ?? "codebot-sandbox:latest";

function sandboxPod(name: string, labels: Record<string, string> = {}): V1Pod {
  return {
    metadata: { name, labels: { "app.kubernetes.io/name": "codebot-sandbox", ...labels } },
    spec: {
      restartPolicy: "Never",
      terminationGracePeriodSeconds: 5,
      automountServiceAccountToken: false,
      containers: [
        {
          name: "sandbox",
          image: IMAGE,
          args: ["--idle-timeout", "300"],
          stdin: true,
          stdinOnce: false,
          workingDir: "/mnt/data",
          resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
          securityContext: { runAsUser: 0, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"], add: ["SETUID", "SETGID", "SETPCAP", "KILL", "DAC_READ_SEARCH"] } },
          volumeMounts: [
            { name: "data", mountPath: "/mnt/data" },
            { name: "tmp", mountPath: "/tmp" },
          ],
        },
      ],
      volumes: [
        { name: "data", emptyDir: { sizeLimit: "256Mi" } },
        { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
      ],
    },
  };
}

async function clientFor(standIn: KubernetesStandIn): Promise<{ kc: KubeConfig; core: CoreV1Api }> {
  const kc = new KubeConfig();
  kc.loadFromString(standIn.kubeconfig(NAMESPACE));
  return { kc, core: kc.makeApiClient(CoreV1Api) };
}

async function running(core: CoreV1Api, name: string): Promise<V1Pod> {
  for (let i = 0; i < 300; i++) {
    const pod = await core.readNamespacedPod({ name, namespace: NAMESPACE });
    if (pod.status?.phase === "Running") return pod;
    if (pod.status?.phase === "Failed") throw new Error(`pod failed: ${JSON.stringify(pod.status)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("pod never ran");
}

/** Attaches with the client's own Attach and asks the real supervisor for a pong. */
async function ping(kc: KubeConfig, name: string): Promise<{ protocol: string; answer: any }> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const socket = await new Attach(kc).attach(NAMESPACE, name, "sandbox", stdout, stderr, stdin, false);
  let buffered = "";
  const answer = new Promise<any>((resolve) =>
    stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split("\n").find((text) => text.includes('"pong"'));
      if (line) resolve(JSON.parse(line));
    }),
  );
  stdin.write(`${JSON.stringify({ id: "p1", op: "ping" })}\n`);
  const result = { protocol: (socket as { protocol: string }).protocol, answer: await answer };
  socket.close();
  return result;
}

describe("the Kubernetes API stand-in, through @kubernetes/client-node", () => {
  const standIn = new KubernetesStandIn({ namespaces: [NAMESPACE], nodes: ["node-a", "node-b"] });
  let kc: KubeConfig;
  let core: CoreV1Api;

  beforeAll(async () => {
    await standIn.start();
    ({ kc, core } = await clientFor(standIn));
  });
  afterAll(() => standIn.close(), 60_000);

  it("creates a pod as a real sandbox container, attaches over v5.channel.k8s.io and the supervisor answers", async () => {
    const created = await core.createNamespacedPod({ namespace: NAMESPACE, body: sandboxPod("sb-one", { "codebot.dev/thread": "abc" }) });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.status?.phase).toBe("Pending");
    const pod = await running(core, "sb-one");
    expect(["node-a", "node-b"]).toContain(pod.spec?.nodeName);
    expect(pod.status?.qosClass).toBe("Burstable");
    const { protocol, answer } = await ping(kc, "sb-one");
    expect(protocol).toBe("v5.channel.k8s.io");
    expect(answer).toMatchObject({ id: "p1", op: "pong" });
    expect(answer.python).toMatch(/^3\.\d+\.\d+$/);
    const container = await standIn.docker.getContainer((await standIn.docker.listContainers({ filters: { label: [`codebot-standin.uid=${pod.metadata!.uid}`] } }))[0]!.Id).inspect();
    expect(container.HostConfig.Memory).toBe(1024 ** 3);
    expect(container.HostConfig.NanoCpus).toBe(1e9);
    expect(container.HostConfig.ReadonlyRootfs).toBe(true);
    expect(container.HostConfig.NetworkMode).toBe("none");
  });

  it("lists by label selector, refuses a bad selector with a Status, and answers a missing pod with 404 NotFound", async () => {
    await core.createNamespacedPod({ namespace: NAMESPACE, body: sandboxPod("sb-two", { "codebot.dev/thread": "def" }) });
    const listed = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: "codebot.dev/thread in (abc,def)" });
    expect(listed.items.map((pod) => pod.metadata?.name).sort()).toEqual(["sb-one", "sb-two"]);
    expect((await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: "codebot.dev/thread=def" })).items.map((pod) => pod.metadata?.name)).toEqual(["sb-two"]);
    await expect(core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: "bad key=1" })).rejects.toMatchObject({ code: 400 });
    const missing = await core.readNamespacedPod({ name: "nobody", namespace: NAMESPACE }).catch((error) => error);
    expect(missing.code).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ kind: "Status", reason: "NotFound", message: 'pods "nobody" not found' });
    const again = await core.createNamespacedPod({ namespace: NAMESPACE, body: sandboxPod("sb-two") }).catch((error) => error);
    expect(again.code).toBe(409);
    const invalid = await core.createNamespacedPod({ namespace: NAMESPACE, body: { ...sandboxPod("Bad_Name") } }).catch((error) => error);
    expect(invalid.code).toBe(422);
    expect(JSON.parse(invalid.body).details.causes[0].field).toBe("metadata.name");
    const runtime = await core.createNamespacedPod({ namespace: NAMESPACE, body: { ...sandboxPod("sb-kata"), spec: { ...sandboxPod("x").spec!, runtimeClassName: "kata" } } }).catch((error) => error);
    expect(runtime.code).toBe(403);
  });

  it("streams a watch from a resourceVersion: a deletion is MODIFIED (deletionTimestamp) then DELETED", async () => {
    await running(core, "sb-two");
    const list = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: "codebot.dev/thread=def" });
    const events: Array<{ type: string; deleting: boolean }> = [];
    const deleted = new Promise<void>((resolve, reject) => {
      void new Watch(kc)
        .watch(`/api/v1/namespaces/${NAMESPACE}/pods`, { labelSelector: "codebot.dev/thread=def", resourceVersion: list.metadata?.resourceVersion }, (type, pod: V1Pod) => {
          events.push({ type, deleting: Boolean(pod.metadata?.deletionTimestamp) });
          if (type === "DELETED") resolve();
        }, (error) => (error ? reject(error) : undefined))
        .then((request) => deleted.finally(() => request.abort()));
    });
    await core.deleteNamespacedPod({ name: "sb-two", namespace: NAMESPACE, gracePeriodSeconds: 1 });
    await deleted;
    expect(events[0]).toEqual({ type: "MODIFIED", deleting: true });
    expect(events.at(-1)?.type).toBe("DELETED");
    await expect(core.readNamespacedPod({ name: "sb-two", namespace: NAMESPACE })).rejects.toMatchObject({ code: 404 });
  });

  it("falls back to v4.channel.k8s.io when the server speaks no v5", async () => {
    const v4 = new KubernetesStandIn({ namespaces: [NAMESPACE], attachProtocols: ["v4.channel.k8s.io"] });
    await v4.start();
    try {
      const client = await clientFor(v4);
      await client.core.createNamespacedPod({ namespace: NAMESPACE, body: sandboxPod("sb-four") });
      await running(client.core, "sb-four");
      const { protocol, answer } = await ping(client.kc, "sb-four");
      expect(protocol).toBe("v4.channel.k8s.io");
      expect(answer.op).toBe("pong");
    } finally {
      await v4.close();
    }
  });

  it("refuses, in a baseline namespace, a pod adding a capability outside Pod Security baseline, as the admission does", async () => {
    const strict = new KubernetesStandIn({ namespaces: [NAMESPACE], baselineNamespaces: [NAMESPACE] });
    await strict.start();
    try {
      const { core: client } = await clientFor(strict);
      const pod = sandboxPod("sb-caps");
      pod.spec!.containers[0]!.securityContext!.capabilities!.add = ["SETUID", "DAC_READ_SEARCH"];
      const refused = await client.createNamespacedPod({ namespace: NAMESPACE, body: pod }).catch((error) => error);
      expect(refused.code).toBe(403);
      expect(JSON.parse(refused.body).message).toBe('pods "sb-caps" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "sandbox" must not include "DAC_READ_SEARCH" in securityContext.capabilities.add)');
    } finally {
      await strict.close();
    }
  });

  it("refuses a client without the token with 401 Unauthorized", async () => {
    const anonymous = new KubeConfig();
    anonymous.loadFromString(standIn.kubeconfig(NAMESPACE).replace(standIn.token, "not-the-token"));
    const refused = await anonymous.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: NAMESPACE }).catch((error) => error);
    expect(refused.code).toBe(401);
    const ca = Buffer.from(anonymous.getCurrentCluster()!.caData!, "base64");
    const body = await new Promise<string>((resolve, reject) =>
      get(`${standIn.url}/api/v1/namespaces/${NAMESPACE}/pods`, { ca }, (response) => {
        let text = "";
        response.on("data", (chunk) => (text += chunk)).on("end", () => resolve(text));
      }).on("error", reject),
    );
    expect(JSON.parse(body)).toMatchObject({ kind: "Status", status: "Failure", reason: "Unauthorized", code: 401 });
  });
});
