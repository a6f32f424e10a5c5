import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { runCli } from "../helpers/run-cli.js";

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
});
