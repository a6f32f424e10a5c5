import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadConfig, SECRET_VARIABLES } from "../../src/config.js";
import { envFile, find, generated, type KubeObject, kubectl, manifestsCopy, MANIFESTS, type Rendered, render, REPO } from "../support/kubernetes-manifests.js";
import { isClusterScoped, schemaProblems } from "../support/kubernetes-schemas.js";

const SANDBOXES = "codebot-sandboxes";
const CODEBOT = "codebot";
const SHIPPED = ["gvisor", "runc"];

let copy: ReturnType<typeof manifestsCopy> | undefined;
/** Why nothing could be rendered (no kubectl, a broken kustomization): every test fails with it, none is skipped. */
let setupError: Error | undefined;
const rendered = new Map<string, Rendered>();
const overlays = (): string[] => {
  if (setupError) throw setupError;
  return copy!.overlays;
};
const objectsOf = (overlay: string): KubeObject[] => {
  if (setupError) throw setupError;
  const found = rendered.get(overlay);
  if (!found) throw new Error(`no overlay ${overlay} under deploy/kubernetes/overlays (or docs/kubernetes.md)`);
  return found.objects;
};

/** A workload's pod template (Deployment, StatefulSet). */
const podSpec = (object: KubeObject): any => object.spec.template.spec;
const configOf = (objects: KubeObject[]): Record<string, string> => generated(objects, "ConfigMap", "codebot-config").data;

beforeAll(() => {
  try {
    const command = kubectl(); // throws, naming what to install, when there is none
    copy = manifestsCopy();
    for (const overlay of copy.overlays) rendered.set(overlay, render(copy.root, overlay, command));
  } catch (error) {
    setupError = error as Error;
  }
});

afterAll(() => copy?.remove());

describe("deploy/kubernetes renders with kubectl kustomize and validates against the Kubernetes OpenAPI schemas", () => {
  test("kubectl is installed and every overlay renders (a missing kubectl fails here, saying what to install)", () => {
    expect(setupError?.message).toBeUndefined();
  });

  test("the shipped overlays (and those docs/kubernetes.md tells operators to write) render", () => {
    expect(overlays()).toEqual(expect.arrayContaining(SHIPPED));
    // The document's overlays are rendered too: external Redis and GKE Sandbox at least.
    expect(overlays().length).toBeGreaterThanOrEqual(4);
    for (const overlay of overlays()) expect(objectsOf(overlay).length, overlay).toBeGreaterThan(10);
  });

  test("every object of every overlay passes its kind's schema, with no field the API doesn't know", () => {
    for (const overlay of overlays()) {
      const problems = objectsOf(overlay).flatMap(schemaProblems);
      expect(problems, overlay).toEqual([]);
    }
  });

  test("the schema check does catch what it is for (a wrong type, a missing field, a misspelt field, an unknown kind)", () => {
    const worker = structuredClone(find(objectsOf("gvisor"), "Deployment", "worker"));
    podSpec(worker).containers[0].resources.limits.cpu = { cores: 1 };
    delete podSpec(worker).containers[0].name;
    podSpec(worker).enableServiceLink = false;
    const problems = schemaProblems(worker).join("\n");
    expect(problems).toMatch(/limits\/cpu must be/);
    expect(problems).toMatch(/must have required property name/);
    expect(problems).toContain("unknown field .spec.template.spec.enableServiceLink");
    expect(schemaProblems({ apiVersion: "v1", kind: "Pod", metadata: { name: "x" } }).join()).toContain("no schema for v1 Pod");
  });

  test("each object is where it belongs: namespaced objects in codebot or the sandbox namespace, nothing cluster-wide but the namespaces and the RuntimeClass", () => {
    for (const overlay of overlays()) {
      for (const object of objectsOf(overlay)) {
        if (isClusterScoped(object)) expect(["Namespace", "RuntimeClass"], `${overlay} ${object.kind}`).toContain(object.kind);
        else expect([CODEBOT, SANDBOXES], `${overlay} ${object.kind} ${object.metadata.name}`).toContain(object.metadata.namespace);
      }
    }
  });

  test("the gvisor overlay is the base plus the RuntimeClass; runc the base alone", () => {
    const names = (overlay: string) => objectsOf(overlay).map((object) => `${object.kind} ${object.metadata.namespace ?? ""}/${object.metadata.name.replace(/-[a-z0-9]{10}$/, "")}`).sort();
    const base = [
      "ConfigMap codebot/codebot-config",
      "Deployment codebot/bot",
      "Deployment codebot/worker",
      "LimitRange codebot-sandboxes/sandboxes",
      "Namespace /codebot",
      "Namespace /codebot-sandboxes",
      "NetworkPolicy codebot-sandboxes/sandboxes-deny-all",
      "NetworkPolicy codebot/redis",
      "PodDisruptionBudget codebot/worker",
      "ResourceQuota codebot-sandboxes/sandboxes",
      "Role codebot-sandboxes/codebot-sandboxes",
      "RoleBinding codebot-sandboxes/codebot-worker",
      "Secret codebot/codebot-secrets",
      "Service codebot/bot",
      "Service codebot/redis",
      "ServiceAccount codebot-sandboxes/default",
      "ServiceAccount codebot/codebot-bot",
      "ServiceAccount codebot/codebot-worker",
      "StatefulSet codebot/redis",
    ];
    expect(names("runc")).toEqual(base);
    expect(names("gvisor")).toEqual([...base, "RuntimeClass /gvisor"].sort());
    // docs/kubernetes.md's overlays: GKE names its own RuntimeClass, external Redis has none of ours, EKS places it.
    expect(names("gke")).toEqual(base);
    expect(configOf(objectsOf("gke")).SANDBOX_K8S_RUNTIME_CLASS).toBe("gvisor");
    const redis = ["NetworkPolicy codebot/redis", "Service codebot/redis", "StatefulSet codebot/redis"];
    expect(names("external-redis")).toEqual([...base.filter((name) => !redis.includes(name)), "RuntimeClass /gvisor"].sort());
    expect(find(objectsOf("eks"), "RuntimeClass", "gvisor")).toMatchObject({ handler: "runsc", scheduling: { nodeSelector: { "codebot.dev/gvisor": "true" } } });
  });
});

describe("the sandboxes' isolation", () => {
  test.each(SHIPPED)("%s: one NetworkPolicy in the sandbox namespace, selecting every pod, denying all ingress and all egress", (overlay) => {
    const policies = objectsOf(overlay).filter((object) => object.kind === "NetworkPolicy" && object.metadata.namespace === SANDBOXES);
    // Policies add up: a second one there could allow what this one denies.
    expect(policies).toHaveLength(1);
    const { spec } = policies[0]!;
    expect(spec.podSelector).toEqual({});
    expect([...spec.policyTypes].sort()).toEqual(["Egress", "Ingress"]);
    expect(spec.ingress ?? []).toEqual([]);
    expect(spec.egress ?? []).toEqual([]);
  });

  test.each(SHIPPED)("%s: the workers' Role is exactly pods create/get/list/watch/delete and pods/attach, in the sandbox namespace, bound to their ServiceAccount alone", (overlay) => {
    const objects = objectsOf(overlay);
    expect(objects.filter((object) => /^(Cluster)?Role(Binding)?$/.test(object.kind)).map((object) => object.kind).sort()).toEqual(["Role", "RoleBinding"]);
    const role = find(objects, "Role", "codebot-sandboxes", SANDBOXES);
    const rules = role.rules.map((rule: any) => ({ apiGroups: rule.apiGroups, resources: rule.resources, verbs: [...rule.verbs].sort(), other: Object.keys(rule).filter((key) => !["apiGroups", "resources", "verbs"].includes(key)) }));
    expect(rules).toEqual([
      { apiGroups: [""], resources: ["pods"], verbs: ["create", "delete", "get", "list", "patch", "watch"], other: [] },
      // WebSocket attach is a GET ("get"); Kubernetes 1.35+ also checks "create" on it: worker-rbac.yaml.
      { apiGroups: [""], resources: ["pods/attach"], verbs: ["create", "get"], other: [] },
    ]);
    const binding = find(objects, "RoleBinding", "codebot-worker", SANDBOXES);
    expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "codebot-sandboxes" });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "codebot-worker", namespace: CODEBOT }]);
    expect(podSpec(find(objects, "Deployment", "worker", CODEBOT)).serviceAccountName).toBe("codebot-worker");
  });

  test.each(SHIPPED)("%s: the sandbox namespace enforces Pod Security baseline, has a quota and limits, and its pods get no API token", (overlay) => {
    const objects = objectsOf(overlay);
    const namespace = find(objects, "Namespace", SANDBOXES);
    expect(namespace.metadata.labels).toMatchObject({ "pod-security.kubernetes.io/enforce": "baseline" });
    expect(find(objects, "Namespace", CODEBOT).metadata.labels).toMatchObject({ "pod-security.kubernetes.io/enforce": "restricted" });
    expect(find(objects, "ServiceAccount", "default", SANDBOXES).automountServiceAccountToken).toBe(false);
    const quota = find(objects, "ResourceQuota", "sandboxes", SANDBOXES);
    expect(Object.keys(quota.spec.hard)).toEqual(expect.arrayContaining(["pods", "limits.memory", "limits.cpu"]));
    const limits = find(objects, "LimitRange", "sandboxes", SANDBOXES);
    const container = limits.spec.limits.find((limit: any) => limit.type === "Container");
    expect(container.default).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.max).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
  });

  test("gvisor: RuntimeClass gvisor with the runsc handler, and the workers told to use it; runc: no RuntimeClass, none named", () => {
    const runtimeClass = find(objectsOf("gvisor"), "RuntimeClass", "gvisor");
    expect(runtimeClass.handler).toBe("runsc");
    expect(configOf(objectsOf("gvisor")).SANDBOX_K8S_RUNTIME_CLASS).toBe("gvisor");
    expect(objectsOf("runc").some((object) => object.kind === "RuntimeClass")).toBe(false);
    expect(configOf(objectsOf("runc")).SANDBOX_K8S_RUNTIME_CLASS).toBe("");
    for (const overlay of SHIPPED) {
      expect(configOf(objectsOf(overlay))).toMatchObject({ SANDBOX_BACKEND: "kubernetes", SANDBOX_K8S_NAMESPACE: SANDBOXES });
      expect(configOf(objectsOf(overlay)).WORKSPACE_STORE).toMatch(/^s3:\/\/[a-z0-9.-]+\//);
    }
  });
});

describe("the bot, the workers and Redis", () => {
  const workloads = (objects: KubeObject[]) => objects.filter((object) => object.kind === "Deployment" || object.kind === "StatefulSet");

  test.each(SHIPPED)("%s: every container runs non-root, read-only, without privilege escalation or any capability, under RuntimeDefault seccomp, with limits", (overlay) => {
    const found = workloads(objectsOf(overlay));
    expect(found.map((object) => object.metadata.name).sort()).toEqual(["bot", "redis", "worker"]);
    for (const workload of found) {
      const spec = podSpec(workload);
      expect(spec.securityContext, workload.metadata.name).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
      expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
      expect(spec.enableServiceLinks, workload.metadata.name).toBe(false);
      expect(spec.hostNetwork ?? false).toBe(false);
      for (const container of [...spec.containers, ...(spec.initContainers ?? [])]) {
        expect(container.securityContext, container.name).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
        expect(Object.keys(container.resources.limits).sort(), container.name).toEqual(["cpu", "memory"]);
      }
    }
    // Only the workers hold an API token.
    expect(podSpec(find(objectsOf(overlay), "Deployment", "worker")).automountServiceAccountToken).toBe(true);
    for (const name of ["bot", "redis"]) expect(podSpec(workloads(objectsOf(overlay)).find((object) => object.metadata.name === name)!).automountServiceAccountToken).toBe(false);
  });

  test.each(SHIPPED)("%s: the workers are scalable, drained one at a time (PodDisruptionBudget), and stopped no sooner than WORKER_SHUTDOWN_SECONDS plus a margin", (overlay) => {
    const objects = objectsOf(overlay);
    const worker = find(objects, "Deployment", "worker", CODEBOT);
    expect(worker.spec.replicas).toBeGreaterThanOrEqual(2);
    const budget = find(objects, "PodDisruptionBudget", "worker", CODEBOT);
    expect(budget.spec.maxUnavailable).toBe(1);
    // The budget's selector picks the workers' pods.
    expect(worker.spec.template.metadata.labels).toMatchObject(budget.spec.selector.matchLabels);
    const shutdown = Number(configOf(objects).WORKER_SHUTDOWN_SECONDS);
    expect(shutdown).toBeGreaterThan(0);
    expect(podSpec(worker).terminationGracePeriodSeconds).toBeGreaterThanOrEqual(shutdown + 10);
  });

  test.each(SHIPPED)("%s: ports agree with the config: Slack's PORT behind the Service, the ops ports annotated for Prometheus and never in a Service", (overlay) => {
    const objects = objectsOf(overlay);
    const config = configOf(objects);
    const bot = find(objects, "Deployment", "bot", CODEBOT);
    const worker = find(objects, "Deployment", "worker", CODEBOT);
    const ports = (deployment: KubeObject) => Object.fromEntries(podSpec(deployment).containers[0].ports.map((port: any) => [port.name, port.containerPort]));
    expect(ports(bot)).toEqual({ http: Number(config.PORT), metrics: Number(config.BOT_METRICS_PORT) });
    expect(ports(worker)).toEqual({ metrics: Number(config.METRICS_PORT) });
    expect(bot.spec.template.metadata.annotations).toEqual({ "prometheus.io/scrape": "true", "prometheus.io/port": config.BOT_METRICS_PORT, "prometheus.io/path": "/metrics" });
    expect(worker.spec.template.metadata.annotations).toEqual({ "prometheus.io/scrape": "true", "prometheus.io/port": config.METRICS_PORT, "prometheus.io/path": "/metrics" });
    const service = find(objects, "Service", "bot", CODEBOT);
    expect(service.spec.ports).toEqual([{ name: "http", port: 80, targetPort: "http" }]);
    expect(service.spec.selector).toEqual({ "app.kubernetes.io/name": "codebot-bot" });
  });

  test.each(SHIPPED)("%s: secrets come from one generated Secret (envFrom), the rest from the ConfigMap; no secret in the ConfigMap", (overlay) => {
    const objects = objectsOf(overlay);
    const secret = generated(objects, "Secret", "codebot-secrets");
    const config = generated(objects, "ConfigMap", "codebot-config");
    const example = envFile(readFileSync(join(MANIFESTS, "base/secret.example.env"), "utf8"));
    expect(Object.keys(secret.data).sort()).toEqual(Object.keys(example).sort());
    for (const name of ["bot", "worker"]) {
      const container = podSpec(find(objects, "Deployment", name, CODEBOT)).containers[0];
      expect(container.envFrom).toEqual([{ configMapRef: { name: config.metadata.name } }, { secretRef: { name: secret.metadata.name } }]);
      expect(container.env ?? []).toEqual([]);
    }
    const redis = podSpec(find(objects, "StatefulSet", "redis", CODEBOT)).containers[0];
    for (const variable of ["REDIS_PASSWORD", "REDISCLI_AUTH"]) {
      expect(redis.env.find((entry: any) => entry.name === variable).valueFrom).toEqual({ secretKeyRef: { name: secret.metadata.name, key: "REDIS_PASSWORD" } });
    }
    for (const variable of [...SECRET_VARIABLES, "REDIS_URL", "REDIS_PASSWORD"]) expect(config.data, variable).not.toHaveProperty(variable);
    for (const variable of SECRET_VARIABLES.filter((name) => !name.startsWith("ADMIN_"))) expect(example, variable).toHaveProperty(variable === "AWS_SESSION_TOKEN" ? "AWS_SECRET_ACCESS_KEY" : variable);
  });

  test("the worker's environment (ConfigMap and secret.example.env) passes codebot's own validation; REDIS_URL carries REDIS_PASSWORD", () => {
    const objects = objectsOf("gvisor");
    const decoded = Object.fromEntries(Object.entries<string>(generated(objects, "Secret", "codebot-secrets").data).map(([key, value]) => [key, Buffer.from(value, "base64").toString("utf8")]));
    const config = loadConfig({ ...configOf(objects), ...decoded });
    expect(config.WORKSPACE_STORE).toBe(configOf(objects).WORKSPACE_STORE);
    expect(config.WORKER_SHUTDOWN_SECONDS).toBe(60);
    expect(new URL(config.REDIS_URL).password).toBe(decoded.REDIS_PASSWORD);
    expect(new URL(config.REDIS_URL).host).toBe("redis:6379");
  });

  test("secret.env, the operator's file, is never committed", () => {
    const ignored = spawnSync("git", ["check-ignore", "-q", "deploy/kubernetes/base/secret.env"], { cwd: REPO });
    expect(ignored.status).toBe(0);
  });
});
