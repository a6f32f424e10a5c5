import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe } from "vitest";
import { sessionNaming } from "../../src/sandbox/session-naming.js";
import { useDurableRuntime } from "../support/durable-runtime.js";
import { sandboxRuntimes } from "../support/runtimes.js";
import { backendContract, CONTRACT_SETTINGS } from "../sandbox/backend-contract.js";

const run = promisify(execFile);

// The backend contract against a fleet (SANDBOX_HOSTS): its catalog, routing and places in Redis,
// over the machine's engine as its one host (two engines, drains and a lost host: fleet.test.ts).
describe.each(await sandboxRuntimes())("under %s", (runtime) => {
  const built = useDurableRuntime({ ...CONTRACT_SETTINGS, SANDBOX_RUNTIME: runtime, SANDBOX_HOSTS: "main=unix:///var/run/docker.sock" });
  backendContract(`a fleet of Docker engines (${runtime})`, () => {
    const { runtime: sandboxes, config } = built;
    const fleet = sandboxes.fleet!;
    return {
      durable: sandboxes.durable!,
      backend: fleet,
      engines: sandboxes.managers,
      events: sandboxes.events,
      session: async (sessionId) => (await fleet.route(sessionId)).manager.session(sessionId),
      loseSandbox: async (sessionId) => void (await run("docker", ["rm", "-f", sessionNaming(config.SANDBOX_NAMESPACE).sessionName(sessionId)])),
      runtime,
    };
  });
});
