import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { freePort } from "./redis-server.js";

/**
 * A private MariaDB server for a test file: Debian's mariadb-server (`.ci/run` installs it), a
 * fresh data folder in a temporary directory, on a free port of 127.0.0.1, run as the `mysql` user
 * when the tests run as root. Never the machine's own service. Set up through its socket as root
 * (unix-socket authentication); roles of the tests connect over TCP with passwords.
 */
export interface TestMariadb {
  port: number;
  url(user: string, password: string, database: string): string;
  /** Runs SQL as root (through the socket). */
  admin(sql: string, params?: unknown[]): Promise<unknown>;
  stop(): Promise<void>;
}

function which(...names: string[]): string {
  for (const name of names) {
    const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
    if (found) return found;
    for (const folder of ["/usr/sbin", "/usr/bin"]) if (spawnSync("test", ["-x", join(folder, name)]).status === 0) return join(folder, name);
  }
  throw new Error(`MariaDB is not installed (apt-get install mariadb-server; .ci/run does): none of ${names.join(", ")}`);
}

export async function startMariadb(): Promise<TestMariadb> {
  const server = which("mariadbd", "mysqld");
  const install = which("mariadb-install-db", "mysql_install_db");
  const dir = mkdtempSync(join(tmpdir(), "codebot-mariadb-"));
  const data = join(dir, "data");
  const socket = join(dir, "mysqld.sock");
  const root = process.getuid?.() === 0;
  const userArgs = root ? ["--user=mysql"] : [];
  if (root) spawnSync("chown", ["mysql:mysql", dir]);
  const init = spawnSync(install, ["--no-defaults", `--datadir=${data}`, ...userArgs, "--auth-root-authentication-method=socket", "--skip-test-db"], { encoding: "utf8" });
  if (init.status !== 0) throw new Error(`mariadb-install-db failed: ${init.stderr}${init.stdout}`);
  const port = await freePort();
  const child: ChildProcess = spawn(
    server,
    [
      "--no-defaults",
      `--datadir=${data}`,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      `--socket=${socket}`,
      `--pid-file=${join(dir, "mysqld.pid")}`,
      ...userArgs,
      "--skip-log-bin",
      "--innodb-buffer-pool-size=32M",
      "--innodb-log-file-size=8M",
      "--innodb-flush-log-at-trx-commit=0",
      "--max-connections=100",
      "--skip-name-resolve",
    ],
    { stdio: "ignore" },
  );
  let rootConnection: mysql.Connection | undefined;
  for (let i = 0; i < 600 && !rootConnection; i++) {
    if (child.exitCode !== null) throw new Error(`mariadbd exited (${child.exitCode})`);
    rootConnection = await mysql.createConnection({ socketPath: socket, user: "root" }).catch(() => undefined);
    if (!rootConnection) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (!rootConnection) throw new Error("mariadbd did not start");
  const connection = rootConnection;
  return {
    port,
    url: (user, password, database) => `mysql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    admin: async (sql, params) => (await connection.query(sql, params))[0],
    async stop() {
      await connection.end().catch(() => undefined);
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
