import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, describe, expect, test } from "vitest";
import { freePort } from "../support/redis-server.js";
import { environmentOf, readYaml, resolvedCompose, TEST_REDIS_PASSWORD } from "./compose-files.js";

/** A compose command as the container's shell gets it (compose prints `$$` for a literal `$`). */
const shellScript = (command: string[]): string => {
  expect(command.slice(0, 2)).toEqual([command[0], "-c"]);
  return command[2]!.replace(/\$\$/g, "$");
};

/** Runs a script with sh, as the container would, with only the given environment (and PATH). */
function sh(script: string, env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync("sh", ["-c", script], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, encoding: "utf8", timeout: 20_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), "codebot-compose-run-"));
  dirs.push(dir);
  return dir;
};
const stops: Array<() => void> = [];
afterAll(() => {
  for (const stop of stops) stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("Redis under compose asks for REDIS_PASSWORD, even on the compose network", () => {
  /** The redis service's start command, run on this machine's redis-server (the image's entrypoint stands for itself). */
  async function startComposeRedis(env: Record<string, string>) {
    const { services } = resolvedCompose({ env });
    const port = await freePort();
    const script = shellScript(services.redis.command).replace("exec docker-entrypoint.sh redis-server", `exec redis-server --port ${port} --bind 127.0.0.1 --dir ${scratch()} --save ""`);
    expect(script).toContain(`--requirepass "$REDIS_PASSWORD"`);
    return { port, script, environment: environmentOf(services.redis), services };
  }

  test("a short or URL-unsafe password stops Redis before it starts, with one line saying what to set", async () => {
    for (const [password, said] of [
      ["short-1234", "REDIS_PASSWORD must be at least 16 characters"],
      ["has/a-slash-and-more-0123", "REDIS_PASSWORD may hold only letters, digits and . _ ~ -"],
      ["has@an-at-sign-and-more-0123", "REDIS_PASSWORD may hold only letters, digits and . _ ~ -"],
    ] as const) {
      const { script, environment } = await startComposeRedis({ REDIS_PASSWORD: password });
      const run = sh(script, environment);
      expect(run.status, password).toBe(1);
      expect(run.stderr.trim().split("\n")).toEqual([expect.stringContaining(said)]);
      expect(run.stderr).toContain("openssl rand -hex 24");
    }
  });

  test("with the password: Redis refuses commands without it, the healthcheck passes only with it, and REDIS_URL as compose builds it connects", async () => {
    const { port, script, environment, services } = await startComposeRedis({});
    const child = spawn("sh", ["-c", script], { env: { PATH: process.env.PATH ?? "", ...environment }, stdio: "ignore" });
    stops.push(() => child.kill("SIGKILL"));
    const cli = (args: string[], env: Record<string, string> = {}) => spawnSync("redis-cli", ["-p", String(port), ...args], { env: { PATH: process.env.PATH ?? "", ...env }, encoding: "utf8" });
    for (let i = 0; i < 200 && !/NOAUTH|PONG/.test(cli(["ping"]).stdout); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(cli(["ping"]).stdout).toMatch(/NOAUTH/);
    expect(cli(["set", "k", "v"]).stdout).toMatch(/NOAUTH/);
    // The healthcheck, as compose runs it (REDISCLI_AUTH from the service's environment), on this port.
    const healthcheck = (services.redis.healthcheck.test[1] as string).replace("redis-cli", `redis-cli -p ${port}`);
    expect(sh(healthcheck, { REDISCLI_AUTH: environment.REDISCLI_AUTH! }).status).toBe(0);
    expect(sh(healthcheck, { REDISCLI_AUTH: "a-wrong-password-0000" }).status).toBe(1);
    expect(sh(healthcheck, {}).status).toBe(1);
    // The bot's and worker's REDIS_URL, pointed at this port: it authenticates.
    const url = new URL(environmentOf(services.worker).REDIS_URL!);
    expect(url.password).toBe(TEST_REDIS_PASSWORD);
    url.host = `127.0.0.1:${port}`;
    const redis = new Redis(url.toString(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      expect(await redis.ping()).toBe("PONG");
      // Sized as REDIS_MAXMEMORY says (default 1gb), and never evicting: a queue must not lose jobs.
      expect(await redis.config("GET", "maxmemory")).toEqual(["maxmemory", String(1024 ** 3)]);
      expect(await redis.config("GET", "maxmemory-policy")).toEqual(["maxmemory-policy", "noeviction"]);
    } finally {
      redis.disconnect();
    }
  });
});

describe("Grafana under the metrics profile", () => {
  const grafana = (env: Record<string, string>) => resolvedCompose({ profiles: ["metrics"], env }).services.grafana;
  const start = (env: Record<string, string>) => {
    const service = grafana(env);
    return sh(shellScript(service.entrypoint).replace("exec /run.sh", "echo grafana-started"), environmentOf(service));
  };

  test("has no default admin password: unset, short or admin, it doesn't start and says to set GRAFANA_ADMIN_PASSWORD", () => {
    for (const password of ["", "admin", "short-pass1"]) {
      const run = start({ GRAFANA_ADMIN_PASSWORD: password });
      expect(run.status, password).toBe(1);
      expect(run.stdout).not.toContain("grafana-started");
      expect(run.stderr.trim()).toBe("codebot: set GRAFANA_ADMIN_PASSWORD in .env (12 characters or more, not admin) for Grafana");
    }
    expect(environmentOf(grafana({})).GF_SECURITY_ADMIN_PASSWORD).toBe("");
    const set = start({ GRAFANA_ADMIN_PASSWORD: "a-real-password-42" });
    expect(set).toMatchObject({ status: 0, stdout: "grafana-started\n" });
    expect(environmentOf(grafana({ GRAFANA_ADMIN_PASSWORD: "a-real-password-42" })).GF_SECURITY_ADMIN_PASSWORD).toBe("a-real-password-42");
  });

  test("anonymous viewing is off unless GRAFANA_ANONYMOUS=true", () => {
    expect(environmentOf(grafana({}))).toMatchObject({ GF_AUTH_ANONYMOUS_ENABLED: "false", GF_USERS_ALLOW_SIGN_UP: "false" });
    expect(environmentOf(grafana({ GRAFANA_ANONYMOUS: "true" }))).toMatchObject({ GF_AUTH_ANONYMOUS_ENABLED: "true", GF_AUTH_ANONYMOUS_ORG_ROLE: "Viewer" });
  });
});

describe("Prometheus scrapes with METRICS_TOKEN", () => {
  const TOKEN_FILE = "/prometheus/.metrics-token";

  test("its start writes the token to the file prometheus.yml reads, for its user alone, then runs Prometheus on the mounted config", () => {
    const token = "prometheus-token-abcdef0123456789";
    for (const [given, written] of [[token, token], ["", ""]] as const) {
      const service = resolvedCompose({ profiles: ["metrics"], env: { METRICS_TOKEN: given } }).services.prometheus;
      const dir = scratch();
      const script = shellScript(service.entrypoint).replaceAll(TOKEN_FILE, join(dir, "token")).replace("exec /bin/prometheus", "exec echo");
      const run = sh(script, environmentOf(service));
      expect(run.status).toBe(0);
      expect(run.stdout).toContain("--config.file=/etc/prometheus/prometheus.yml");
      expect(readFileSync(join(dir, "token"), "utf8")).toBe(written);
      expect(statSync(join(dir, "token")).mode & 0o777).toBe(0o600);
    }
    // Every job sends it; the file lives in Prometheus' own data volume (writable by its user).
    const jobs = readYaml("deploy/prometheus/prometheus.yml").scrape_configs;
    expect(jobs.length).toBe(2);
    for (const job of jobs) expect(job.authorization, job.job_name).toEqual({ type: "Bearer", credentials_file: TOKEN_FILE });
    const service = resolvedCompose({ profiles: ["metrics"] }).services.prometheus;
    expect(service.volumes.some((volume: any) => (typeof volume === "string" ? volume.startsWith("prometheus-data:/prometheus") : volume.target === "/prometheus"))).toBe(true);
  });
});
