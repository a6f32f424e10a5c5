import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

/** The repository's root, where docker-compose.yml is. */
export const REPO = fileURLToPath(new URL("../../", import.meta.url));

export const read = (path: string): string => readFileSync(join(REPO, path), "utf8");

/** A compose file as written, YAML merge keys (`<<: *codebot-env`) resolved. */
export const readYaml = (path: string): any => parse(read(path), { merge: true });

/** `docker-compose` (1.29, what CI runs) or Compose v2's `docker compose`. */
export type ComposeCli = "docker-compose" | "docker compose";

export interface ComposeRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The Redis password the tests' .env holds (compose refuses to run without one). */
export const TEST_REDIS_PASSWORD = "test-redis-password-0123456789";

/** .env.example as a user has it after `cp .env.example .env` and the README's first step (REDIS_PASSWORD set). */
export const exampleEnv = (password = TEST_REDIS_PASSWORD): string => read(".env.example").replace(/^REDIS_PASSWORD=$/m, `REDIS_PASSWORD=${password}`);

/**
 * Runs `compose … config ARGS` on the repository's docker-compose.yml with the given variables as
 * its only env file (so a developer's .env is never read) and a bare environment (so the shell's
 * variables don't leak in either). A map of variables gets REDIS_PASSWORD unless it names it
 * (an empty value: none); an env file's text is used as it is.
 */
export function composeConfig(options: { cli?: ComposeCli; profiles?: string[]; env?: Record<string, string> | string; args?: string[] } = {}): ComposeRun {
  const dir = mkdtempSync(join(tmpdir(), "codebot-compose-"));
  try {
    const envFile = join(dir, "test.env");
    const env = typeof options.env === "string" ? options.env : { REDIS_PASSWORD: TEST_REDIS_PASSWORD, ...options.env };
    writeFileSync(envFile, typeof env === "string" ? env : Object.entries(env).map(([key, value]) => `${key}=${value}\n`).join(""));
    const [command, ...prefix] = (options.cli ?? "docker-compose").split(" ");
    const args = [...prefix, "--env-file", envFile, "-f", join(REPO, "docker-compose.yml"), ...(options.profiles ?? []).flatMap((profile) => ["--profile", profile]), "config", ...(options.args ?? [])];
    const result = spawnSync(command!, args, { cwd: REPO, encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir } });
    if (result.error) throw result.error;
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The resolved configuration `compose config` prints, parsed; throws with compose's message when it fails. */
export function resolvedCompose(options: Parameters<typeof composeConfig>[0] = {}): any {
  const run = composeConfig(options);
  if (run.status !== 0) throw new Error(`compose config failed (${run.status}): ${run.stderr}`);
  return parse(run.stdout);
}

/** A service's environment as a map, whichever form compose printed (map, or list of KEY=VALUE). */
export function environmentOf(service: any): Record<string, string> {
  const environment = service?.environment ?? {};
  if (Array.isArray(environment)) return Object.fromEntries(environment.map((entry: string) => [entry.split("=", 1)[0], entry.slice(entry.indexOf("=") + 1)]));
  return Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, value === null || value === undefined ? "" : String(value)]));
}

export interface PortMapping {
  hostIp: string;
  published: string;
  target: string;
}

/** A service's published ports, from the short ("127.0.0.1:3001:3001/tcp") or the long form. */
export function portsOf(service: any): PortMapping[] {
  return (service?.ports ?? []).map((port: any) => {
    if (typeof port === "object") return { hostIp: port.host_ip ?? "", published: String(port.published ?? ""), target: String(port.target) };
    const parts = String(port).replace(/\/(tcp|udp)$/, "").split(":");
    if (parts.length === 3) return { hostIp: parts[0]!, published: parts[1]!, target: parts[2]! };
    if (parts.length === 2) return { hostIp: "", published: parts[0]!, target: parts[1]! };
    return { hostIp: "", published: "", target: parts[0]! };
  });
}

export interface VolumeMount {
  source: string;
  target: string;
  type: "volume" | "bind";
}

/** A service's mounts, from the short ("redis-data:/data:rw") or the long form. */
export function volumesOf(service: any): VolumeMount[] {
  return (service?.volumes ?? []).map((volume: any) => {
    if (typeof volume === "object") return { source: String(volume.source), target: String(volume.target), type: volume.type === "volume" ? "volume" : "bind" };
    const [source, target] = String(volume).split(":");
    return { source: source!, target: target!, type: /^[./~]/.test(source!) ? "bind" : "volume" };
  });
}
