import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { freePort } from "../support/redis-server.js";
import { runCli } from "../support/run-cli.js";

/** A stack trace's frames, as Node prints them. */
const STACK = /\n\s+at /;

describe("the CLI as a new user tries it", () => {
  test("`codebot worker --help` prints its usage and starts nothing, even with no Redis or engine around", async () => {
    const started = Date.now();
    const run = await runCli(["worker", "--help"], { env: { REDIS_URL: "redis://127.0.0.1:1", DOCKER_HOST: "unix:///nonexistent.sock" } });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("Usage: codebot worker\n");
    expect(run.stderr).toBe("");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test("every command answers --help and -h with its own usage", async () => {
    for (const [command, usage] of [["ask", "codebot ask ["], ["sessions", "codebot sessions list"], ["hosts", "codebot hosts list"], ["exec", "codebot exec ["]] as const) {
      for (const flag of ["--help", "-h"]) {
        const run = await runCli([command, flag]);
        expect(run.code, `${command} ${flag}`).toBe(0);
        expect(run.stdout, `${command} ${flag}`).toContain(usage);
      }
    }
  });

  test("`codebot --version` prints the package's version; `codebot --help` lists it", async () => {
    const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect((await runCli(["--version"])).stdout).toBe(`codebot ${version}\n`);
    expect((await runCli(["--help"])).stdout).toContain("codebot --version");
  });

  test("no command, an unknown one (even one of Object's own names), `help COMMAND`", async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe("");
    expect(none.stderr).toMatch(/^codebot: Which command\?\nUsage:\n {2}codebot bot\n/);
    for (const name of ["frobnicate", "constructor", "__proto__"]) {
      const unknown = await runCli([name]);
      expect(unknown.code, name).toBe(2);
      expect(unknown.stderr, name).toMatch(new RegExp(`^codebot: Unknown command "${name}"\\.\\nUsage:`));
      expect(unknown.stderr, name).not.toMatch(STACK);
    }
    expect(await runCli(["help", "exec"])).toMatchObject({ code: 0, stdout: "Usage: codebot exec [--session ID] [--attach PATH]... [--timeout SECONDS] [--json] [FILE | -]\n" });
  });

  test("bad arguments: one line and the command's usage, exit 2; missing files are found before anything starts", async () => {
    const closedRedis = { REDIS_URL: `redis://127.0.0.1:${await freePort()}` };
    const dir = await mkdtemp(join(tmpdir(), "codebot-newuser-"));
    await writeFile(join(dir, "data.csv"), "a\n1\n");
    const noMessage = await runCli(["ask"], { env: closedRedis });
    expect(noMessage).toMatchObject({ code: 2, stderr: expect.stringMatching(/^codebot: No message given\.\nUsage: codebot ask /) });
    const badOption = await runCli(["ask", "--bogus", "hi"], { env: closedRedis });
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/^codebot: Unknown option '--bogus'.*\nUsage: codebot ask \[--thread ID\]/);
    // Said at once (before Redis is asked, which isn't there), so nothing was sent.
    const started = Date.now();
    const missingAttachment = await runCli(["ask", "--attach", join(dir, "data.csv"), "--attach", join(dir, "nope.csv"), "what is in these?"], { env: closedRedis });
    expect(missingAttachment).toMatchObject({ code: 2, stdout: "", stderr: `codebot: Cannot read ${join(dir, "nope.csv")}: no such file.\n` });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await runCli(["exec", join(dir, "nope.py")])).toMatchObject({ code: 2, stdout: "", stderr: `codebot: Cannot read ${join(dir, "nope.py")}: no such file.\n` });
    expect(await runCli(["exec", dir])).toMatchObject({ code: 2, stderr: `codebot: Cannot read ${dir}: it is a folder.\n` });
    expect(await runCli(["exec", "--attach", dir, "-"], { input: "1" })).toMatchObject({ code: 2, stderr: `codebot: Cannot read ${dir}: it is a folder.\n` });
    expect(await runCli(["chat", "extra"], { env: closedRedis })).toMatchObject({ code: 2, stderr: expect.stringMatching(/^codebot: Unexpected argument 'extra'.*\nUsage: codebot chat /) });
  });

  test("an unexpected error is its message in one line (its stack trace with LOG_LEVEL=debug)", async () => {
    const env = { DOCKER_HOST: "tcp://[not-an-address" };
    const run = await runCli(["exec", "-"], { env, input: "print(1)" });
    expect(run).toMatchObject({ code: 2, stdout: "", stderr: "codebot: DOCKER_HOST env variable should be something like tcp://localhost:1234 (LOG_LEVEL=debug shows where it happened)\n" });
    const debug = await runCli(["exec", "-"], { env: { ...env, LOG_LEVEL: "debug" }, input: "print(1)" });
    expect(debug.stderr).toMatch(STACK);
  });

  test("`discord register` with Discord's API out of reach: one line, exit 2", async () => {
    const port = await freePort();
    const run = await runCli(["discord", "register"], { env: { DISCORD_TOKEN: "not-a-real-token", DISCORD_API_URL: `http://127.0.0.1:${port}` } });
    expect(run).toMatchObject({ code: 2, stdout: "", stderr: `codebot: Cannot reach Discord's API at http://127.0.0.1:${port} (ECONNREFUSED): check the network, or DISCORD_API_URL.\n` });
  });
});
