import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./redis-server.js";

/**
 * A private PostgreSQL server for a test file: Debian's binaries (`.ci/run` installs postgresql),
 * a fresh cluster in a temporary folder, on a free port of 127.0.0.1, run as the `postgres` user
 * when the tests run as root (PostgreSQL refuses root). Never the machine's own service. The
 * superuser's password is required over TCP, as a real deployment's would be.
 */
export interface TestPostgres {
  port: number;
  /** postgres://postgres:<password>@127.0.0.1:<port>/postgres */
  adminUrl: string;
  /** A URL for another role and database of this server. */
  url(user: string, password: string, database?: string): string;
  /** Runs SQL as the superuser (on database, default postgres). */
  admin(sql: string, params?: unknown[], database?: string): Promise<pg.QueryResult>;
  stop(): Promise<void>;
}

/** The newest installed PostgreSQL's bin folder (/usr/lib/postgresql/<version>/bin). */
function binFolder(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((name) => existsSync(join(root, name, "bin", "postgres"))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error("PostgreSQL is not installed (apt-get install postgresql; .ci/run does)");
  return join(root, newest, "bin");
}

/** The uid and gid the server runs as: `postgres` when we are root, else ourselves. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout.trim());
  return { uid: id("-u"), gid: id("-g") };
}

async function accepting(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = binFolder();
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), "codebot-pg-"));
  const data = join(dir, "data");
  const password = `pg-admin-${Math.random().toString(36).slice(2)}`;
  writeFileSync(join(dir, "pw"), password);
  if (user) chownSync(dir, user.uid, user.gid), chownSync(join(dir, "pw"), user.uid, user.gid);
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};
  const init = spawnSync(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${join(dir, "pw")}`, "-E", "UTF8", "--no-sync"], { ...asUser, encoding: "utf8" });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const child: ChildProcess = spawn(
    join(bin, "postgres"),
    ["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=100", "-c", "shared_buffers=32MB"],
    { ...asUser, stdio: "ignore" },
  );
  const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  for (let i = 0; i < 400 && !(await accepting(adminUrl)); i++) {
    if (child.exitCode !== null) throw new Error(`postgres exited (${child.exitCode})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const url = (name: string, secret: string, database = "postgres") => `postgres://${encodeURIComponent(name)}:${encodeURIComponent(secret)}@127.0.0.1:${port}/${database}`;
  return {
    port,
    adminUrl,
    url,
    async admin(sql, params, database = "postgres") {
      const client = new pg.Client({ connectionString: url("postgres", password, database) });
      await client.connect();
      try {
        return await client.query(sql, params);
      } finally {
        await client.end();
      }
    },
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT"); // fast shutdown
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
