import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LABEL_ROLE } from "../../../src/sandbox/kubernetes/pod-labels.js";
import { sessionNaming } from "../../../src/sandbox/session-naming.js";
import { createSandboxes } from "../../../src/app/sandboxes.js";
import { loadConfig } from "../../../src/config.js";
import { createLogger } from "../../../src/log.js";
import { useDurableRuntime } from "../../support/durable-runtime.js";
import { runCli } from "../../support/run-cli.js";
import { S3RVER_CREDENTIALS, startS3Server, type TestS3 } from "../../support/s3-server.js";
import { KubernetesStandIn } from "../../support/stand-ins/kubernetes/kubernetes-stand-in.js";
import { sessionPods, STAND_IN_IMAGE } from "./kubernetes-fixture.js";

const NAMESPACE = "codebot-sandboxes";
const GRACE_SECONDS = 15;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(100);
  }
}

// A thread's pods on the stand-in, with durable workspaces in an S3 store (s3rver): the warm pool,
// a pod lost with its node, a pod evicted (a drain) and saved within its grace period, sessions listed as pods.
describe("the Kubernetes backend's pods: pool, loss, eviction, listing", () => {
  const standIn = new KubernetesStandIn({ namespaces: [NAMESPACE], baselineNamespaces: [NAMESPACE], nodes: ["node-a", "node-b"] });
  const dir = mkdtempSync(join(tmpdir(), "codebot-k8s-"));
  let s3: TestS3;
  beforeAll(async () => {
    await standIn.start();
    standIn.writeKubeconfig(join(dir, "kubeconfig"));
    s3 = await startS3Server();
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, AWS_EC2_METADATA_DISABLED: "true" });
  });
  afterAll(async () => {
    await standIn.close();
    await s3?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
  const built = useDurableRuntime(
    { SANDBOX_BACKEND: "kubernetes", SANDBOX_K8S_NAMESPACE: NAMESPACE, SANDBOX_IMAGE: STAND_IN_IMAGE, SANDBOX_POOL_SIZE: "1", SANDBOX_MEMORY_MB: "256", SANDBOX_K8S_GRACE_SECONDS: String(GRACE_SECONDS) },
    () => ({ KUBECONFIG: join(dir, "kubeconfig"), WORKSPACE_STORE: `s3://${s3.bucket}/k8s`, WORKSPACE_S3_ENDPOINT: s3.endpoint, WORKSPACE_S3_FORCE_PATH_STYLE: "true" }),
  );
  const podsOf = (sessionId: string) => sessionPods(standIn, NAMESPACE, built.config.SANDBOX_NAMESPACE, sessionNaming(built.config.SANDBOX_NAMESPACE).sessionName(sessionId));
  const pool = () => standIn.store.list(NAMESPACE).filter((pod) => pod.metadata.labels?.[LABEL_ROLE] === "pool" && pod.status.phase === "Running");

  test("a warm pod is claimed for a new thread: relabelled as its session, and the pool refilled", async () => {
    await built.runtime.manager.tidy(); // as a worker starts: leftovers removed, the pool filled, evictions watched
    await built.runtime.manager.warmUp();
    const [warm] = pool();
    expect(warm?.metadata.name).toMatch(new RegExp(`^${built.config.SANDBOX_NAMESPACE}-pool-`));
    const claims: boolean[] = [];
    built.runtime.events.subscribe({ onPoolClaim: (event) => void claims.push(event.hit) });
    const result = await built.runtime.durable!.execute("k8s-warm", "print('warm')");
    expect(result).toMatchObject({ status: "ok", stdout: "warm\n" });
    expect(claims).toEqual([true]);
    expect(podsOf("k8s-warm")).toEqual([warm!.metadata.name]);
    expect(standIn.store.get(NAMESPACE, warm!.metadata.name)?.metadata.labels?.[LABEL_ROLE]).toBe("session");
    const refilled = await until("a new pool pod", () => pool()[0]);
    expect(refilled.metadata.name).not.toBe(warm!.metadata.name);
  });

  test("a pool pod of other limits is retired, and two workers opening one thread at once share one pod", async () => {
    const { config } = built;
    const other = createSandboxes(loadConfig({ ...process.env, ...Object.fromEntries(Object.entries(config).map(([key, value]) => [key, String(value ?? "")])), SANDBOX_MEMORY_MB: "512" }), createLogger("silent"));
    const second = createSandboxes(config, createLogger("silent"));
    try {
      await other.manager.tidy(); // fills its own pool: pods of 512 MiB
      const stale = pool().filter((pod) => !podsOf("k8s-warm").includes(pod.metadata.name)).map((pod) => pod.metadata.name as string);
      await built.runtime.manager.tidy();
      await until("the other limits' pool pods retired", () => stale.every((name) => !standIn.store.get(NAMESPACE, name) || standIn.store.get(NAMESPACE, name)?.metadata.deletionTimestamp) || undefined);
      const [a, b] = await Promise.all([built.runtime.manager.session("k8s-race"), second.manager.session("k8s-race")]);
      expect(a.sandboxId).toBe(b.sandboxId);
      expect(podsOf("k8s-race")).toEqual([a.sandboxId]);
      expect((await a.execute("shared = 1")).status).toBe("ok");
      expect((await b.execute("shared + 1")).result).toBe("2");
    } finally {
      await Promise.all([other.manager.close(), second.manager.close()]);
    }
  });

  test("sessions are listed as their pods: the pod's name, its phase and node, its age", async () => {
    const listed = await built.runtime.manager.listSessions();
    const row = listed.find((session) => session.sessionId === "k8s-warm");
    expect(row?.sandboxId).toBe(podsOf("k8s-warm")[0]);
    expect(row?.status).toMatch(/^Running on node-[ab]$/);
    expect(Date.now() - row!.createdAt.getTime()).toBeLessThan(120_000);
    // The command an operator runs, with the workers' settings: the pod, its phase and node.
    const { config } = built;
    const env = {
      SANDBOX_BACKEND: "kubernetes",
      SANDBOX_K8S_NAMESPACE: NAMESPACE,
      SANDBOX_NAMESPACE: config.SANDBOX_NAMESPACE,
      KUBECONFIG: config.KUBECONFIG!,
      WORKSPACE_STORE: config.WORKSPACE_STORE,
      WORKSPACE_S3_ENDPOINT: config.WORKSPACE_S3_ENDPOINT!,
      WORKSPACE_S3_FORCE_PATH_STYLE: "true",
    };
    const command = await runCli(["sessions", "list"], { env });
    expect(command.code, command.stderr).toBe(0);
    expect(command.stdout).toMatch(/^k8s-warm\t\w+ \(Running on node-[ab]\)\t/m);
  });

  test("a pod lost with its node: the thread resumes in a new pod with its files from S3", async () => {
    const id = "k8s-lost";
    await built.runtime.durable!.execute(id, "lost = 1\nopen('/mnt/data/kept.csv', 'w').write('a,b\\n1,2\\n')");
    expect(await built.runtime.durable!.settle(id)).toEqual([]);
    const [before] = podsOf(id);
    const node = standIn.store.get(NAMESPACE, before!)!.spec.nodeName as string;
    expect(await standIn.kubelet.loseNode(node)).toContain(`${NAMESPACE}/${before}`);
    const after = await built.runtime.durable!.execute(id, "print('lost' in globals(), open('/mnt/data/kept.csv').read().count(','))");
    expect(after).toMatchObject({ status: "ok", stdout: "False 2\n" });
    expect(podsOf(id)).not.toContain(before);
  });

  test("a pod evicted by a drain: a worker saves its files and variables within the grace period, and the thread resumes with both", async () => {
    const id = "k8s-evicted";
    await built.runtime.durable!.execute(id, "total = 41\nopen('/mnt/data/drain.txt', 'w').write('before the drain')");
    expect(await built.runtime.durable!.settle(id)).toEqual([]);
    const [pod] = podsOf(id);
    const hibernated: string[] = [];
    built.runtime.events.subscribe({ onHibernated: (event) => void hibernated.push(event.sessionId) });
    const started = Date.now();
    // The eviction subresource, as `kubectl drain` calls it: a graceful deletion.
    const kc = new KubeConfig();
    kc.loadFromString(standIn.kubeconfig());
    await kc.makeApiClient(CoreV1Api).createNamespacedPodEviction({ name: pod!, namespace: NAMESPACE, body: { metadata: { name: pod!, namespace: NAMESPACE } } });
    await until("the session saved", () => hibernated.includes(id), GRACE_SECONDS * 1000);
    await until("the evicted pod gone", () => !standIn.store.get(NAMESPACE, pod!), GRACE_SECONDS * 1000);
    expect(Date.now() - started).toBeLessThan(GRACE_SECONDS * 1000);
    const resumed = await built.runtime.durable!.execute(id, "print(total + 1, open('/mnt/data/drain.txt').read())");
    expect(resumed).toMatchObject({ status: "ok", stdout: "42 before the drain\n", stateLost: false });
    expect(podsOf(id)).not.toContain(pod);
  });
});
