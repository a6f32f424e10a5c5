import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort, startRedis, type TestRedis } from "../support/redis-server.js";
import { runCli } from "../support/run-cli.js";

let redis: TestRedis;
let env: Record<string, string>;
beforeAll(async () => {
  redis = await startRedis();
  env = { REDIS_URL: redis.url, QUEUE_PREFIX: `tls${randomBytes(3).toString("hex")}`, SANDBOX_NAMESPACE: `cbt-${randomBytes(4).toString("hex")}`, LOG_LEVEL: "warn" };
});
afterAll(async () => {
  await redis?.stop();
});

describe("SANDBOX_HOSTS over tcp:// without TLS", () => {
  test("the worker and the CLI refuse to start: exit 2, the problem in one line naming TLS, nothing else run", async () => {
    const hosts = "local=unix:///var/run/docker.sock,big=tcp://10.0.0.7:2375";
    for (const args of [["worker"], ["hosts", "list"], ["sessions", "list"]]) {
      const run = await runCli(args, { env: { ...env, SANDBOX_HOSTS: hosts } });
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stdout).toBe("");
      const lines = run.stderr.trimEnd().split("\n");
      expect(lines).toEqual([
        "codebot: Invalid configuration:",
        `  SANDBOX_HOSTS: "big=tcp://10.0.0.7:2375" is tcp:// without TLS, so whoever reaches or watches that address controls the engine: add ?tls=DIR (ca.pem, cert.pem, key.pem), use ssh:// or unix://, or add ?insecure=true to accept it on purpose`,
      ]);
    }
  });

  test("marked insecure=true it is accepted, with a warning naming the host at every start", async () => {
    const closed = await freePort();
    const hosts = `local=unix:///var/run/docker.sock,lab=tcp://127.0.0.1:${closed}?insecure=true`;
    for (let start = 0; start < 2; start++) {
      const run = await runCli(["hosts", "list", "--json"], { env: { ...env, SANDBOX_HOSTS: hosts } });
      expect(run.code, run.stderr).toBe(0);
      const warnings = run.stderr.split("\n").filter((line) => line.includes("without TLS"));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, msg: "SANDBOX_HOSTS: lab is reached over tcp:// without TLS (insecure=true): whoever can reach or watch that address controls its engine and every sandbox on it" });
      const rows = JSON.parse(run.stdout) as Array<{ host: string; health: string }>;
      expect(rows.map((row) => row.host)).toEqual(["local", "lab"]);
      expect(rows.find((row) => row.host === "lab")?.health).not.toBe("up");
    }
  });
});
