/**
 * The Kubernetes column of bench:sandbox: the Kubernetes backend over the local API stand-in (each
 * pod a container of the same engine, attach through its WebSocket) against the Docker backend on
 * the same engine and runtime, their samples taken in turn: a trivial cell in an existing session,
 * and the first execution in a new session from the warm pool. What it adds is the API server's
 * hop (HTTPS, the attach WebSocket and its channel bytes) and the pool's claim by patch; a real
 * cluster adds its network and its API server's load.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { sandboxManagerOver } from "../src/sandbox/create-sandbox-manager.js";
import { createSandboxManager } from "../src/sandbox/docker/create-sandbox-manager.js";
import { kubernetesProviders } from "../src/sandbox/kubernetes/kubernetes-providers.js";
import type { SandboxManager } from "../src/sandbox/sandbox-manager.js";
import type { SandboxSession } from "../src/sandbox/sandbox-session.js";
import { KubernetesStandIn } from "../test/support/stand-ins/kubernetes/kubernetes-stand-in.js";
import { median, row, timeInterleaved } from "./stats.js";

const NAMESPACE = "codebot-sandboxes";

interface Column {
  label: string;
  runtime: string;
  manager: SandboxManager;
  session?: SandboxSession;
  opened: string[];
}

function settings(runtime: string, extra: Record<string, string>) {
  return loadConfig({ ...process.env, METRICS_PORT: "0", SANDBOX_RUNTIME: runtime, SANDBOX_NAMESPACE: `bench-${randomBytes(3).toString("hex")}`, SANDBOX_POOL_SIZE: "2", ...extra });
}

export async function kubernetesColumn(runtimes: string[], runs: number): Promise<void> {
  const standIn = new KubernetesStandIn({ namespaces: [NAMESPACE], baselineNamespaces: [NAMESPACE] });
  const dir = mkdtempSync(join(tmpdir(), "codebot-bench-k8s-"));
  const log = createLogger(process.env.LOG_LEVEL ?? "warn");
  const columns: Column[] = [];
  try {
    await standIn.start();
    const kubeconfig = standIn.writeKubeconfig(join(dir, "kubeconfig"));
    for (const runtime of runtimes) {
      columns.push({ label: `docker ${runtime}`, runtime, manager: createSandboxManager(settings(runtime, {}), log), opened: [] });
      const k8s = settings(runtime, { SANDBOX_BACKEND: "kubernetes", SANDBOX_K8S_NAMESPACE: NAMESPACE, KUBECONFIG: kubeconfig, ...(runtime === "runsc" ? { SANDBOX_K8S_RUNTIME_CLASS: "gvisor" } : {}) });
      columns.push({ label: `kubernetes ${runtime}`, runtime, manager: sandboxManagerOver(kubernetesProviders(k8s), k8s, log), opened: [] });
    }
    await Promise.all(columns.map((column) => column.manager.warmUp()));
    for (const column of columns) {
      column.session = await column.manager.session("bench-warm");
      await column.session.execute("pass");
    }
    const warm = await timeInterleaved(runs, columns, (column) => column.session!.execute("x = 1"));
    const first = await timeInterleaved(
      runs,
      columns,
      async (column) => {
        const id = `bench-new-${column.opened.length}`;
        column.opened.push(id);
        const result = await column.manager.execute(id, "import pandas, numpy, matplotlib\nx = 1");
        if (result.status !== "ok") throw new Error(`first execution failed: ${JSON.stringify(result).slice(0, 1000)}`);
      },
      async (column) => {
        await column.manager.kill(column.opened[column.opened.length - 1] ?? "");
        await column.manager.warmUp();
      },
    );
    console.log("5. Kubernetes backend over the API stand-in vs the Docker backend, same engine and runtime");
    columns.forEach((column, i) => console.log(row(`   warm cell execute('x = 1') [${column.label}]`, warm[i] ?? [])));
    columns.forEach((column, i) => console.log(row(`   first execution from the pool [${column.label}]`, first[i] ?? [])));
    for (let i = 0; i + 1 < columns.length; i += 2) {
      const runtime = columns[i]!.runtime;
      const ratio = (samples: number[][]) => (median(samples[i + 1] ?? []) / median(samples[i] ?? [])).toFixed(2);
      console.log(`   ${runtime}: kubernetes/docker warm ${ratio(warm)}x, first execution ${ratio(first)}x`);
    }
  } finally {
    for (const column of columns) {
      await column.manager.close().catch(() => undefined);
      await column.manager.destroyAll().catch(() => undefined);
    }
    await standIn.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
