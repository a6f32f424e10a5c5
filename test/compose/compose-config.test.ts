import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { Registry } from "prom-client";
import { loadConfig, SECRET_VARIABLES } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { startOpsServer } from "../../src/ops/ops-server.js";
import { Readiness } from "../../src/ops/readiness.js";
import { freePort } from "../support/redis-server.js";
import { composeConfig, environmentOf, exampleEnv, portsOf, read, REPO, resolvedCompose, TEST_REDIS_PASSWORD, volumesOf } from "./compose-files.js";

const CORE = ["bot", "redis", "sandbox-image", "worker"];
const METRICS = ["grafana", "prometheus"];

/** Services a plain `up` starts: those without `profiles` (docker-compose 1.29's `config` prints every service). */
const unprofiled = (config: any) => Object.keys(config.services).filter((name) => !config.services[name].profiles?.length).sort();

describe("docker-compose.yml (docker-compose 1.29, as CI runs it)", () => {
  test("is valid with REDIS_PASSWORD set, with and without the metrics profile", () => {
    for (const profiles of [[], ["metrics"]]) {
      const run = composeConfig({ profiles, args: ["-q"] });
      expect(run.stderr, `--profile ${profiles.join(",")}`).toBe("");
      expect(run.status).toBe(0);
    }
    expect(composeConfig({ args: ["--profiles"] }).stdout.trim().split("\n")).toEqual(["metrics"]);
  });

  test("without REDIS_PASSWORD (no .env, or .env.example copied as it is) compose refuses to start anything, saying what to set", () => {
    for (const env of ["", read(".env.example"), { REDIS_PASSWORD: "" }]) {
      const run = composeConfig({ env, args: ["-q"] });
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain("set REDIS_PASSWORD in .env, e.g. the output of openssl rand -hex 24");
    }
    // The README's first line says to set it, next to the model's key.
    expect(read("README.md").split("\n").find((line) => line.startsWith("- Run the bot:"))).toMatch(/REDIS_PASSWORD/);
  });

  test("is valid with .env.example copied as .env (REDIS_PASSWORD set), and the containers' environment passes codebot's own validation", () => {
    for (const env of [{}, exampleEnv()]) {
      const config = resolvedCompose({ env });
      for (const name of ["worker", "bot"]) {
        const environment = environmentOf(config.services[name]);
        expect(() => loadConfig(environment), name).not.toThrow();
        expect(loadConfig(environment).REDIS_URL).toBe(`redis://:${TEST_REDIS_PASSWORD}@redis:6379`);
      }
      // ADMIN_PORT=0 in .env.example: no port mapping may point at container port 0 (the engine refuses it).
      for (const service of Object.values<any>(config.services)) for (const port of portsOf(service)) expect(port.target).not.toBe("0");
    }
  });

  test("a plain `up` starts Redis, the sandbox image, the worker and the bot; Prometheus and Grafana come only with the profile", () => {
    const config = resolvedCompose({ profiles: ["metrics"] });
    expect(unprofiled(config)).toEqual(CORE);
    for (const name of METRICS) expect(config.services[name].profiles, name).toEqual(["metrics"]);
  });

  test("restart policies: Redis, the worker and the monitoring always come back; the bot only after a failure (no platform: it exits 0 and stays down)", () => {
    const { services } = resolvedCompose({ profiles: ["metrics"] });
    expect(services.redis.restart).toBe("unless-stopped");
    expect(services.worker.restart).toBe("unless-stopped");
    expect(services.bot.restart).toBe("on-failure");
    expect(services.prometheus.restart).toBe("unless-stopped");
    expect(services.grafana.restart).toBe("unless-stopped");
    expect(services["sandbox-image"].restart ?? "no").toBe("no");
  });

  test("healthchecks on Redis, the worker and the bot; the worker and the bot ask their /readyz, after a start period", () => {
    const { services } = resolvedCompose();
    expect(services.redis.healthcheck.test).toEqual(["CMD-SHELL", "redis-cli ping | grep -qx PONG"]);
    for (const name of ["worker", "bot"]) {
      const { test: command, start_period, interval, timeout, retries } = services[name].healthcheck;
      expect(command.slice(0, 3), name).toEqual(["CMD", "node", "-e"]);
      expect(command[3], name).toContain("/readyz");
      expect(start_period, name).toMatch(/^\d+[smh]/);
      expect(interval && timeout && retries, name).toBeTruthy();
    }
    // The worker follows METRICS_PORT, the bot BOT_METRICS_PORT (defaults: the config's), never the bot's public PORT.
    expect(services.worker.healthcheck.test[3]).toContain(`"${loadConfig({}).METRICS_PORT}"`);
    expect(services.bot.healthcheck.test[3]).toContain(`process.env.BOT_METRICS_PORT || "${loadConfig({}).BOT_METRICS_PORT}"`);
    expect(environmentOf(services.bot).PORT).toBe("3000");
    expect(services.bot.healthcheck.test[3]).not.toContain("3000");
    // Started once the things they need are healthy (the sandbox image built).
    expect(services.worker.depends_on.redis.condition).toBe("service_healthy");
    expect(services.worker.depends_on["sandbox-image"].condition).toBe("service_completed_successfully");
    expect(services.bot.depends_on.redis.condition).toBe("service_healthy");
  });

  test("the healthcheck commands work: ready is healthy, not ready and no endpoint are told apart, with METRICS_TOKEN sent when set", async () => {
    const { services } = resolvedCompose();
    const script = (name: string) => services[name].healthcheck.test[3] as string;
    const token = "healthcheck-token-1234567890";
    const [open, guarded] = [await freePort(), await freePort()];
    let ready = true;
    const readiness = new Readiness([{ name: "redis", probe: async () => (ready ? undefined : "unreachable") }], 0);
    const endpoints = { registry: new Registry(), readiness, log: createLogger("silent") };
    const servers = [await startOpsServer(endpoints, { port: open, host: "127.0.0.1" }), await startOpsServer({ ...endpoints, token }, { port: guarded, host: "127.0.0.1" })];
    try {
      const worker = (env: Record<string, string>) => exitCode(script("worker"), env);
      const bot = (env: Record<string, string>) => exitCode(script("bot"), env);
      expect(await worker({ METRICS_PORT: String(open) })).toBe(0);
      expect(await bot({ BOT_METRICS_PORT: String(open) })).toBe(0);
      expect(await worker({ METRICS_PORT: String(guarded), METRICS_TOKEN: token })).toBe(0);
      expect(await bot({ BOT_METRICS_PORT: String(guarded), METRICS_TOKEN: token })).toBe(0);
      // The token is what makes them pass there: without it (or with another), unhealthy.
      expect(await worker({ METRICS_PORT: String(guarded) })).toBe(1);
      expect(await bot({ BOT_METRICS_PORT: String(guarded), METRICS_TOKEN: `${token}-not` })).toBe(1);
      ready = false;
      expect(await worker({ METRICS_PORT: String(open) })).toBe(1);
      expect(await bot({ BOT_METRICS_PORT: String(guarded), METRICS_TOKEN: token })).toBe(1);
      // Port 0 serves no endpoint: healthy while the process runs.
      expect(await worker({ METRICS_PORT: "0" })).toBe(0);
      expect(await bot({ BOT_METRICS_PORT: "0" })).toBe(0);
    } finally {
      await Promise.all(servers.map((server) => server?.close()));
    }
    const closed = await freePort();
    expect(await exitCode(script("worker"), { METRICS_PORT: String(closed) })).toBe(1);
    expect(await exitCode(script("bot"), { BOT_METRICS_PORT: String(closed) })).toBe(1);
  });

  test("the worker has memory, CPU and process limits (overridable from .env)", () => {
    const { services } = resolvedCompose();
    expect(bytes(services.worker.mem_limit)).toBeGreaterThanOrEqual(1024 ** 3);
    expect(Number(services.worker.cpus)).toBeGreaterThan(0);
    expect(Number(services.worker.pids_limit)).toBeGreaterThan(0);
    const tuned = resolvedCompose({ env: { WORKER_MEM_LIMIT: "3g", WORKER_CPUS: "1.5" } }).services.worker;
    expect(bytes(tuned.mem_limit)).toBe(3 * 1024 ** 3);
    expect(Number(tuned.cpus)).toBe(1.5);
  });

  test("named volumes hold Redis, the workspaces, Prometheus and Grafana", () => {
    const config = resolvedCompose({ profiles: ["metrics"] });
    expect(Object.keys(config.volumes).sort()).toEqual(["grafana-data", "prometheus-data", "redis-data", "workspaces"]);
    const mount = (service: string, target: string) => volumesOf(config.services[service]).find((volume) => volume.target === target);
    expect(mount("redis", "/data")).toMatchObject({ type: "volume", source: "redis-data" });
    expect(mount("worker", environmentOf(config.services.worker).WORKSPACE_STORE!)).toMatchObject({ type: "volume", source: "workspaces" });
    expect(mount("prometheus", "/prometheus")).toMatchObject({ type: "volume", source: "prometheus-data" });
    expect(mount("grafana", "/var/lib/grafana")).toMatchObject({ type: "volume", source: "grafana-data" });
  });

  test("the data sources' folder is mounted into the worker read-only, where DATA_SOURCES_FILE points; the bot gets none", () => {
    const { services } = resolvedCompose({ env: { DATA_SOURCES_FILE: "/etc/codebot/data-sources.yml" } });
    const mount = volumesOf(services.worker).find((volume) => volume.target === "/etc/codebot");
    expect(mount).toMatchObject({ type: "bind", source: join(REPO, "codebot-config") });
    // docker-compose 1.29 prints a mount as "source:target:mode", Compose v2 as an object.
    const raw = (services.worker.volumes as unknown[]).find((volume) => (typeof volume === "string" ? volume.split(":")[1] : (volume as { target: string }).target) === "/etc/codebot");
    expect(typeof raw === "string" ? raw.split(":")[2] : (raw as { read_only?: boolean }).read_only ? "ro" : "rw").toBe("ro");
    expect(environmentOf(services.worker).DATA_SOURCES_FILE).toBe("/etc/codebot/data-sources.yml");
    expect(volumesOf(services.bot).map((mount) => mount.target)).not.toContain("/etc/codebot");
  });

  test("the sandbox image is built once, under the tag the worker runs sandboxes from", () => {
    for (const env of [{}, { SANDBOX_IMAGE: "registry.example/codebot-sandbox:7" }] as Array<Record<string, string>>) {
      const { services } = resolvedCompose({ env });
      expect(services["sandbox-image"].image).toBe(environmentOf(services.worker).SANDBOX_IMAGE);
      expect(services["sandbox-image"].build.context).toMatch(/sandbox-image$/);
    }
    // The app image is one image for both commands.
    const { services } = resolvedCompose();
    expect(services.worker.image).toBe(services.bot.image);
  });

  test("secrets reach the bot's and the worker's environment at run time, and nothing else: no build argument, no other service, not the image", () => {
    const secrets = [...SECRET_VARIABLES, "GRAFANA_ADMIN_PASSWORD", "REDIS_PASSWORD"];
    // Beyond the bot and the worker: Redis has its password, Prometheus the token it scrapes with, Grafana its own.
    const alsoIn: Record<string, string[]> = { GRAFANA_ADMIN_PASSWORD: ["grafana"], REDIS_PASSWORD: ["redis", "worker", "bot"], METRICS_TOKEN: ["worker", "bot", "prometheus"] };
    const marker = (name: string) => `marker-${name.toLowerCase().replace(/_/g, "-")}-1234567890abcdef`;
    const env = Object.fromEntries(secrets.map((name) => [name, name === "SLACK_BOT_TOKEN" ? `xoxb-${marker(name)}` : name === "SLACK_APP_TOKEN" ? `xapp-${marker(name)}` : marker(name)]));
    const config = resolvedCompose({ env, profiles: ["metrics"] });
    for (const [name, service] of Object.entries<any>(config.services)) {
      const { environment, ...rest } = service;
      const elsewhere = JSON.stringify(rest);
      const inEnvironment = JSON.stringify(environment ?? {});
      for (const secret of secrets) {
        expect(elsewhere, `${secret} in ${name} outside its environment`).not.toContain(marker(secret));
        const expected = (alsoIn[secret] ?? ["worker", "bot"]).includes(name);
        expect(inEnvironment.includes(marker(secret)), `${secret} in ${name}'s environment`).toBe(expected);
      }
      if (service.build) expect(service.build.args ?? {}, name).toEqual({});
    }
    // The image can't take them in: .env stays out of the build context, and the Dockerfile names none.
    const ignored = read(".dockerignore").split("\n").map((line) => line.trim());
    expect(ignored).toContain(".env");
    expect(ignored).toContain(".env.*");
    const dockerfile = read("Dockerfile");
    expect(dockerfile).not.toMatch(/^\s*ARG\b/m);
    expect(dockerfile).not.toMatch(/COPY\s+(\.\s|.*\.env)/);
    for (const secret of secrets) expect(dockerfile).not.toContain(secret);
  });

  test("the app image is on Node 22 LTS", () => {
    const stages = [...read("Dockerfile").matchAll(/^FROM\s+(\S+)/gm)].map((match) => match[1]);
    expect(stages).toEqual(["node:22-bookworm-slim", "node:22-bookworm-slim"]);
  });

  test("a model server on the host is reached as host.docker.internal; ports are published as meant", () => {
    const { services } = resolvedCompose({ profiles: ["metrics"] });
    for (const name of ["worker", "bot"]) expect(services[name].extra_hosts, name).toContain("host.docker.internal:host-gateway");
    expect(portsOf(services.redis)).toEqual([]);
    expect(portsOf(services.worker)).toEqual([]);
    // Slack's HTTP events on every interface; the admin page, Prometheus and Grafana on the host's loopback only;
    // the ops endpoints (9464, 9465) not at all: Prometheus reaches them on the compose network.
    const bot = portsOf(services.bot);
    expect(bot).toEqual([
      { hostIp: "", published: "3000", target: "3000" },
      { hostIp: "127.0.0.1", published: "3001", target: "3001" },
    ]);
    expect(environmentOf(services.bot).ADMIN_HOST).toBe("0.0.0.0");
    expect(portsOf(services.prometheus)).toEqual([{ hostIp: "127.0.0.1", published: "9090", target: "9090" }]);
    expect(portsOf(services.grafana)).toEqual([{ hostIp: "127.0.0.1", published: "3002", target: "3000" }]);
    // PORT moves the host's side only; the bot still listens on 3000 inside.
    const moved = resolvedCompose({ env: { PORT: "8080", ADMIN_PORT_PUBLISHED: "4001", ADMIN_HOST: "127.0.0.1" } }).services.bot;
    expect(portsOf(moved)).toContainEqual({ hostIp: "", published: "8080", target: "3000" });
    expect(portsOf(moved)).toContainEqual({ hostIp: "127.0.0.1", published: "4001", target: "3001" });
    expect(environmentOf(moved)).toMatchObject({ PORT: "3000", ADMIN_HOST: "0.0.0.0" });
  });
});

/** "2g", "512m" or a number of bytes, as compose prints a memory limit. */
function bytes(value: string | number): number {
  if (typeof value === "number") return value;
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)b?$/i.exec(value.trim());
  if (!match) throw new Error(`not a size: ${value}`);
  return Number(match[1]) * 1024 ** " kmgt".indexOf((match[2] || " ").toLowerCase());
}

/** Runs a healthcheck's node -e script the way the container would, with its environment. */
function exitCode(script: string, env: Record<string, string>): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", script], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: "ignore" });
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.on("error", reject);
    child.on("exit", (code) => (clearTimeout(timer), resolve(code)));
  });
}
