import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { createSandboxManager } from "../sandbox/create-sandbox-manager.js";
import { CliError } from "./cli-error.js";

export const SESSIONS_USAGE = "codebot sessions list [--json] | codebot sessions kill ID | codebot sessions kill --all";

/** `codebot sessions`: see the live sandbox sessions and end them. */
export async function sessionsCommand(args: string[], config: Config, log: Logger): Promise<number> {
  const [action, target, ...rest] = args;
  const manager = createSandboxManager(config, log);
  if (action === "list" && (target === undefined || target === "--json") && rest.length === 0) {
    const sessions = await manager.listSessions();
    if (target === "--json") process.stdout.write(`${JSON.stringify(sessions)}\n`);
    else if (!sessions.length) process.stdout.write("No live sessions.\n");
    else {
      for (const session of sessions) {
        process.stdout.write(`${session.sessionId}\t${session.containerId}\t${session.createdAt.toISOString()}\t${session.status}\n`);
      }
    }
    return 0;
  }
  if (action === "kill" && target === "--all" && rest.length === 0) {
    await manager.destroyAll();
    process.stdout.write("Ended every session and emptied the warm pool.\n");
    return 0;
  }
  if (action === "kill" && target !== undefined && rest.length === 0) {
    if (await manager.kill(target)) {
      process.stdout.write(`Ended session ${target}.\n`);
      return 0;
    }
    process.stderr.write(`No live session ${target}.\n`);
    return 1;
  }
  throw new CliError(`Usage: ${SESSIONS_USAGE}`);
}
