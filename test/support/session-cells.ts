import { execFile } from "node:child_process";
import { promisify } from "node:util";
import Docker from "dockerode";
import { expect } from "vitest";
import type { ExecutionResult } from "../../src/core/execution-result.js";
import { SandboxError } from "../../src/sandbox/sandbox-error.js";
import { sessionNaming } from "../../src/sandbox/session-naming.js";

const run = promisify(execFile);

/** Running session containers of a namespace, by session id, sorted. */
export async function liveSessions(namespace: string): Promise<string[]> {
  const naming = sessionNaming(namespace);
  const running = await new Docker().listContainers({ filters: { label: [`codebot.namespace=${namespace}`], status: ["running"] } });
  return running.flatMap((info) => info.Names.map((name) => naming.sessionIdFromName(name)).filter((id): id is string => id !== undefined)).sort();
}

/**
 * Starts a cell in session `id` (through `execute`) that runs until released; returns once it is
 * running, as seen from inside the sandbox. The released cell's value is 'released'.
 */
export async function busyCell(namespace: string, id: string, execute: (code: string) => Promise<ExecutionResult>): Promise<{ release(): Promise<unknown> }> {
  const cell = execute("import os, time\nopen('/tmp/started', 'w').close()\nwhile not os.path.exists('/tmp/release'):\n    time.sleep(0.05)\n'released'");
  const name = sessionNaming(namespace).sessionName(id);
  while (!(await run("docker", ["exec", name, "test", "-e", "/tmp/started"]).then(() => true, () => false))) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    async release() {
      await run("docker", ["exec", name, "touch", "/tmp/release"]);
      expect(await cell).toMatchObject({ status: "ok", result: "'released'" });
    },
  };
}

/** The SESSION_LIMIT error the promise is refused with. */
export async function refusal(promise: Promise<unknown>): Promise<SandboxError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SandboxError);
  expect((error as SandboxError).code).toBe("SESSION_LIMIT");
  return error as SandboxError;
}
