import { spawn, execFile, type ChildProcess } from "node:child_process";
import { existsSync, openSync, closeSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";

const run = promisify(execFile);

export interface DockerEngineOptions {
  /** The image loaded from the main engine; false: none. Default SANDBOX_IMAGE or codebot-sandbox:latest. */
  image?: string | false;
  /** Register runsc (and every other runsc-* entry) as the main engine has them (path and runtime args). Default: when the main engine lists them. */
  runsc?: boolean;
  /** How long the engine may take to answer after a start. */
  readyTimeoutMs?: number;
  /** How long the image copy may take (then the engine is destroyed and the start fails). */
  loadTimeoutMs?: number;
}

export interface TestEngine {
  /** DOCKER_HOST for processes that should use this engine. */
  host: string;
  /** The engine's folder: socket, data and exec roots, config, log. */
  dir: string;
  docker: Docker;
  /** The OCI runtimes this engine has (runc, and runsc when registered). */
  runtimes: string[];
  /** How long the image load took, in ms (0 without an image). */
  imageLoadMs: number;
  /** The engine's log so far (every start appends to it). */
  logs(): Promise<string>;
  /** SIGTERM, wait (SIGKILL after 15 s). Without live-restore the engine stops its containers. */
  stop(): Promise<void>;
  /** Stops and starts again on the same data root: containers that were running are then dead. */
  restart(): Promise<void>;
  /** SIGKILL: the crash case (containers keep running until the engine starts again and ends them). */
  kill(): Promise<void>;
  /** Stops the engine, unmounts what it left mounted and removes its folder. Safe to call twice. */
  destroy(): Promise<void>;
}

/** dockerd processes this module started and that may still run: killed if the test process exits early. */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

const STOP_GRACE_MS = 15_000;

/**
 * A private Docker engine for a test, beside the main one: its own socket, data root and exec root
 * under /tmp/cbt-engine-XXXX, no bridge or iptables, no live-restore, and the sandbox image copied
 * over from the main engine. The test may stop, restart or crash it; only this engine is touched.
 */
export async function startDockerEngine(options: DockerEngineOptions = {}): Promise<TestEngine> {
  const dir = await mkdtemp("/tmp/cbt-engine-");
  const socket = join(dir, "docker.sock");
  const host = `unix://${socket}`;
  const dataRoot = join(dir, "data");
  const execRoot = join(dir, "exec");
  const logFile = join(dir, "dockerd.log");
  const configFile = join(dir, "daemon.json");
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const main = new Docker();

  // Runtimes mirror the main engine's runsc entry; a config of our own keeps /etc/docker/daemon.json out.
  const runtimes: Record<string, { path: string; runtimeArgs?: string[] }> = {};
  if (options.runsc !== false) {
    const info = (await main.info().catch(() => ({}))) as { Runtimes?: Record<string, { path?: string; runtimeArgs?: string[] }> };
    // Every gVisor entry (runsc, and others such as runsc-systrap that .ci/run registers), so a
    // SANDBOX_RUNTIME pinned for the tests works on this engine too.
    for (const [name, entry] of Object.entries(info.Runtimes ?? {})) {
      if (!name.startsWith("runsc") || !entry.path || !existsSync(entry.path)) continue;
      runtimes[name] = { path: entry.path, ...(entry.runtimeArgs ? { runtimeArgs: entry.runtimeArgs } : {}) };
    }
    if (options.runsc && !runtimes.runsc) throw new Error("runsc was asked for, but the main engine does not list it");
  }
  await writeFile(configFile, `${JSON.stringify({ "live-restore": false, runtimes }, null, 2)}\n`);

  const args = [
    "-H", host,
    "--data-root", dataRoot,
    "--exec-root", execRoot,
    "--pidfile", join(dir, "docker.pid"),
    "--config-file", configFile,
    "--bridge=none",
    "--iptables=false",
    "--ip6tables=false",
  ];
  const docker = new Docker({ socketPath: socket });
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let destroyed = false;

  const logs = () => readFile(logFile, "utf8").catch(() => "");
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  async function start(): Promise<void> {
    if (destroyed) throw new Error("the test engine was destroyed");
    const out = openSync(logFile, "a");
    const started = spawn("dockerd", args, { stdio: ["ignore", out, out] });
    closeSync(out);
    child = started;
    live.add(started);
    exited = new Promise((resolve) =>
      started.once("exit", () => {
        live.delete(started);
        resolve();
      }),
    );
    const spawnError = new Promise<Error>((resolve) => started.once("error", resolve));
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      const failed = await Promise.race([spawnError, new Promise<undefined>((resolve) => setTimeout(resolve, 100, undefined))]);
      if (failed) throw new Error(`could not start dockerd: ${failed.message}`);
      if (started.exitCode !== null || started.signalCode !== null) throw new Error(`dockerd exited (${started.exitCode ?? started.signalCode}) before it answered:\n${await logs()}`);
      if (await docker.ping().then(() => true, () => false)) return;
      if (Date.now() > deadline) {
        await signal("SIGKILL");
        throw new Error(`dockerd did not answer on ${host} within ${readyTimeoutMs / 1000}s:\n${await logs()}`);
      }
    }
  }

  /** Sends sig to the running dockerd and waits for it to exit (SIGKILL after the grace). */
  async function signal(sig: NodeJS.Signals): Promise<void> {
    const current = child;
    if (!current || !running()) return;
    current.kill(sig);
    const timer = setTimeout(() => current.kill("SIGKILL"), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
    child = undefined;
  }

  /**
   * Processes of this engine still alive after its stop: container shims (found by this engine's
   * containerd socket) and the runtimes' own processes (runsc's sandbox and gofer name its exec root).
   */
  async function leftoverProcesses(): Promise<number[]> {
    const pids: number[] = [];
    for (const entry of await readdir("/proc").catch(() => [] as string[])) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
      if (cmdline.split("\0").some((arg) => arg.includes(`${dir}/`))) pids.push(Number(entry));
    }
    return pids;
  }

  /** Unmounts everything under the engine's folder, deepest first (lazily: nothing may hold it up). */
  async function unmountAll(): Promise<void> {
    const mountinfo = await readFile("/proc/self/mountinfo", "utf8");
    const points = mountinfo
      .split("\n")
      .map((line) => line.split(" ")[4] ?? "")
      .map((point) => point.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
      .filter((point) => point === dir || point.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const point of points) await run("umount", ["-l", point]).catch(() => undefined);
  }

  await start();
  let imageLoadMs = 0;
  const image = options.image === false ? undefined : (options.image ?? process.env.SANDBOX_IMAGE ?? "codebot-sandbox:latest");
  try {
    if (image) {
      const loading = Date.now();
      await loadImage(image, host, options.loadTimeoutMs ?? 240_000);
      imageLoadMs = Date.now() - loading;
    }
  } catch (error) {
    await engine().destroy();
    throw error;
  }

  function engine(): TestEngine {
    return {
      host,
      dir,
      docker,
      runtimes: ["runc", ...Object.keys(runtimes)],
      imageLoadMs,
      logs,
      stop: () => signal("SIGTERM"),
      async restart() {
        await signal("SIGTERM");
        await start();
      },
      kill: () => signal("SIGKILL"),
      async destroy() {
        if (destroyed) return;
        // Containers are ended through the engine (their runtime cleans up); after a crash it is
        // started first, and its start ends what still ran (no live-restore).
        if (!running()) await start().catch(() => undefined);
        if (running()) {
          const containers = await docker.listContainers({ all: true }).catch(() => [] as Docker.ContainerInfo[]);
          await Promise.all(containers.map((info) => docker.getContainer(info.Id).remove({ force: true, v: true }).catch(() => undefined)));
        }
        await signal("SIGTERM");
        destroyed = true;
        for (const pid of await leftoverProcesses()) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
        await unmountAll();
        await rm(dir, { recursive: true, force: true, maxRetries: 3 });
      },
    };
  }
  return engine();
}

/** `docker save image | docker -H host load`, streamed (the sandbox image is ~1.8 GB); killed past timeoutMs. */
async function loadImage(image: string, host: string, timeoutMs: number): Promise<void> {
  const copy = spawn("bash", ["-o", "pipefail", "-c", 'docker save "$1" | docker -H "$2" load -q', "load-image", image, host], { stdio: ["ignore", "ignore", "pipe"], detached: true });
  let errors = "";
  copy.stderr?.setEncoding("utf8").on("data", (chunk: string) => (errors += chunk));
  const timer = setTimeout(() => {
    errors += `\n(timed out after ${timeoutMs / 1000}s)`;
    process.kill(-copy.pid!, "SIGKILL"); // the whole pipeline: its own process group
  }, timeoutMs);
  const code = await new Promise<number | null>((resolve, reject) => copy.once("error", reject).once("exit", (exit) => resolve(exit)));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`could not copy ${image} to the test engine (${code ?? "killed"}):\n${errors}`);
}
