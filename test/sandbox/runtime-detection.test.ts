import { Writable } from "node:stream";
import Docker from "dockerode";
import { pino, type Logger } from "pino";
import { describe, expect, test, vi } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createSandboxManager } from "../../src/sandbox/docker/create-sandbox-manager.js";
import { SandboxError } from "../../src/sandbox/sandbox-error.js";
import { chooseRuntime, engineRuntimes, runtimeResolver } from "../../src/sandbox/docker/runtime-detection.js";
import { useSandboxes } from "../support/sandbox-fixture.js";

const docker = new Docker();
const engine = await engineRuntimes(docker);
const gvisor = engine.available.includes("runsc");

/** A real pino logger whose lines are kept, to see what the process says at start. */
function capturingLogger(): { log: Logger; lines: () => Array<{ msg: string; runtime?: string }> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const log = pino({ level: "info" }, stream);
  return { log, lines: () => chunks.join("").split("\n").filter(Boolean).map((line) => JSON.parse(line)) };
}

async function runtimeOf(container: Docker.Container): Promise<string | undefined> {
  return (await container.inspect()).HostConfig.Runtime;
}

describe("SANDBOX_RUNTIME against the engine's runtimes", () => {
  test("the engine is asked for its runtimes and its default (docker info)", () => {
    expect(engine.available).toContain("runc");
    expect(engine.available).toContain(engine.defaultRuntime);
  });

  test("auto takes gVisor when the engine lists it, else the engine's default", () => {
    expect(chooseRuntime("auto", engine).runtime).toBe(gvisor ? "runsc" : engine.defaultRuntime);
    const withoutGvisor = { available: engine.available.filter((name) => name !== "runsc"), defaultRuntime: engine.defaultRuntime };
    expect(chooseRuntime("auto", withoutGvisor)).toMatchObject({ runtime: engine.defaultRuntime, reason: expect.stringContaining("no runsc") });
  });

  test("a runtime the engine doesn't list is refused, naming the variable and what the engine has", () => {
    const attempt = () => chooseRuntime("kata-nonexistent", engine);
    expect(attempt).toThrow(SandboxError);
    expect(attempt).toThrow(/^SANDBOX_RUNTIME=kata-nonexistent, but the Docker engine has no runtime of that name \(it lists .*runc/);
    try {
      attempt();
    } catch (error) {
      expect((error as SandboxError).code).toBe("RUNTIME_MISSING");
    }
    expect(chooseRuntime("runc", engine).runtime).toBe("runc");
  });

  test("the choice is asked of the engine once and logged once, at info level", async () => {
    const { log, lines } = capturingLogger();
    const resolve = runtimeResolver(docker, "auto", "codebot-sandbox:latest", log);
    const answers = await Promise.all([resolve(), resolve(), resolve()]);
    expect(await resolve()).toBe(answers[0]);
    expect(answers).toEqual(Array(3).fill(gvisor ? "runsc" : engine.defaultRuntime));
    const said = lines();
    expect(said).toHaveLength(1);
    expect(said[0]).toMatchObject({ level: 30, runtime: answers[0], msg: expect.stringContaining(`sandboxes run under ${answers[0]}`) });
  });

  test("a configured manager says at start which runtime sandboxes will use, before any is started", async () => {
    const { log, lines } = capturingLogger();
    const manager = createSandboxManager(loadConfig({ SANDBOX_NAMESPACE: "cbt-unused", SANDBOX_RUNTIME: "auto" }), log);
    await vi.waitFor(() => expect(lines()).toHaveLength(1));
    expect(lines()[0]).toMatchObject({ component: "sandbox", runtime: gvisor ? "runsc" : engine.defaultRuntime });
    expect(await manager.listSessions()).toEqual([]);
  });

  test("an unreachable engine is reported as such and asked again next time", async () => {
    const { log, lines } = capturingLogger();
    const resolve = runtimeResolver(new Docker({ socketPath: "/nonexistent/docker.sock" }), "auto", "img", log);
    await expect(resolve()).rejects.toMatchObject({ code: "DOCKER_UNAVAILABLE" });
    await expect(resolve()).rejects.toMatchObject({ code: "DOCKER_UNAVAILABLE" });
    expect(lines()).toHaveLength(0);
  });
});

describe("sandboxes start under the chosen runtime", () => {
  const auto = useSandboxes({ SANDBOX_RUNTIME: "auto", SANDBOX_POOL_SIZE: "0" });
  const runc = useSandboxes({ SANDBOX_RUNTIME: "runc", SANDBOX_POOL_SIZE: "0" });
  const unknown = useSandboxes({ SANDBOX_RUNTIME: "no-such-runtime", SANDBOX_POOL_SIZE: "0" });

  test("auto runs a session under gVisor where the engine has it, and the session works", async () => {
    const session = await auto.manager.session("rt-auto");
    expect(await runtimeOf(new Docker().getContainer(session.sandboxId))).toBe(gvisor ? "runsc" : engine.defaultRuntime);
    const result = await session.execute("import pandas, platform\nprint(pandas.__version__[:2])\nplatform.release()");
    expect(result).toMatchObject({ status: "ok", stdout: "2.\n" });
    // gVisor's kernel reports its own release (4.4.0), not the host's.
    if (gvisor) expect(result.result).toBe("'4.4.0'");
  });

  test("runc, named explicitly, is used as named", async () => {
    const session = await runc.manager.session("rt-runc");
    expect(await runtimeOf(new Docker().getContainer(session.sandboxId))).toBe("runc");
    expect((await session.execute("1 + 1")).result).toBe("2");
  });

  test("an unknown runtime fails the session start with the clear error, and starts nothing", async () => {
    await expect(unknown.manager.session("rt-unknown")).rejects.toMatchObject({
      code: "RUNTIME_MISSING",
      message: expect.stringContaining("SANDBOX_RUNTIME=no-such-runtime"),
    });
    expect(await unknown.manager.listSessions()).toEqual([]);
  });
});
