import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe } from "vitest";
import { sessionNaming } from "../../src/sandbox/session-naming.js";
import { useDurableRuntime } from "../support/durable-runtime.js";
import { sandboxRuntimes } from "../support/runtimes.js";
import { backendContract, CONTRACT_SETTINGS } from "./backend-contract.js";

const run = promisify(execFile);

// The backend contract against one Docker engine (DOCKER_HOST), under each runtime it has.
describe.each(await sandboxRuntimes())("under %s", (runtime) => {
  const built = useDurableRuntime({ ...CONTRACT_SETTINGS, SANDBOX_RUNTIME: runtime });
  backendContract(`one Docker engine (${runtime})`, () => {
    const { runtime: sandboxes, config } = built;
    return {
      durable: sandboxes.durable!,
      backend: sandboxes.backend,
      engines: sandboxes.managers,
      events: sandboxes.events,
      session: (sessionId) => sandboxes.manager.session(sessionId),
      // A container removed by someone else (an engine restart, an operator): the worker isn't told.
      loseSandbox: async (sessionId) => void (await run("docker", ["rm", "-f", sessionNaming(config.SANDBOX_NAMESPACE).sessionName(sessionId)])),
      runtime,
    };
  });
});
