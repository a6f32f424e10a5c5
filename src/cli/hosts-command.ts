import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { HostStates } from "../fleet/host-states.js";
import { parseHosts } from "../core/host-spec.js";
import { SessionCatalog } from "../fleet/session-catalog.js";
import { CliError } from "./cli-error.js";
import { connectRedis } from "./cli-redis.js";
import type { SandboxFactory } from "./sandbox-factory.js";
import { HOSTS_USAGE } from "./usages.js";

export { HOSTS_USAGE };

/** `codebot hosts`: the fleet's engines (SANDBOX_HOSTS): health, sessions, pool; drain and undrain one. */
export async function hostsCommand(args: string[], config: Config, log: Logger, factory: SandboxFactory): Promise<number> {
  const [action, target, ...rest] = args;
  if (!config.SANDBOX_HOSTS) throw new CliError("No fleet is configured: set SANDBOX_HOSTS to list the Docker engines sandboxes run on.");
  if (rest.length) throw new CliError(`Usage: ${HOSTS_USAGE}`);
  const hosts = parseHosts(config.SANDBOX_HOSTS);
  const redis = await connectRedis(config.REDIS_URL);
  try {
    const states = new HostStates(redis, config.QUEUE_PREFIX, config.SANDBOX_NAMESPACE, config.SANDBOX_HOST_DOWN_AFTER);
    if ((action === "drain" || action === "undrain") && target) {
      const host = hosts.find((spec) => spec.name === target || spec.address === target);
      if (!host) throw new CliError(`No host "${target}" in SANDBOX_HOSTS (${hosts.map((spec) => spec.name).join(", ")}).`);
      await states.drain(host.name, action === "drain");
      if (action === "undrain") {
        process.stdout.write(`${host.name} takes new sessions again.\n`);
        return 0;
      }
      // The workers stop refilling it within seconds; what is there now goes at once.
      const member = factory.runtime(config, log, redis).fleet!.members.find((candidate) => candidate.spec.name === host.name)!;
      await member.manager.setDraining(true).catch(() => undefined);
      process.stdout.write(
        `Draining ${host.name}: no new sessions there and its warm pool is emptied; its sessions go to sleep as soon as no one uses them ` +
          "and move to another host at their next message. `codebot hosts list` shows what is left.\n",
      );
      return 0;
    }
    if (action === "list" && (target === undefined || target === "--json")) {
      const { fleet } = factory.runtime(config, log, redis);
      await fleet!.check();
      const [known, placements] = await Promise.all([states.all(hosts.map((spec) => spec.name)), new SessionCatalog(redis, config.QUEUE_PREFIX, config.SANDBOX_NAMESPACE).all()]);
      const rows = await Promise.all(
        fleet!.members.map(async (member) => {
          const state = known.get(member.spec.name);
          const sessions = state?.down ? [] : await member.manager.listSessions().catch(() => []);
          const pool = state?.down ? 0 : await member.manager.pooled().catch(() => 0);
          const placed = [...placements.values()].filter((placement) => placement.host === member.spec.name).length;
          return {
            host: member.spec.name,
            address: member.spec.address,
            health: state?.down ? "down" : state?.failures ? `failing (${state.failures})` : "up",
            drained: state?.drained ?? false,
            // A drain's progress: what is still on the host (done when nothing is).
            drain: state?.drained ? { sessions: sessions.length, pool, done: !state.down && sessions.length === 0 && pool === 0 } : null,
            running: sessions.length,
            pool,
            placed,
            maxSessions: member.spec.maxSessions ?? member.manager.maxSessions,
            memoryMb: Math.round((sessions.length * member.manager.limits.memoryBytes) / 1048576),
            weight: member.spec.weight,
          };
        }),
      );
      if (target === "--json") process.stdout.write(`${JSON.stringify(rows)}\n`);
      else {
        process.stdout.write("HOST\tHEALTH\tDRAINED\tRUNNING\tPOOL\tPLACED\tMAX\tMEMORY CAP\tWEIGHT\n");
        for (const row of rows) process.stdout.write(`${row.host}\t${row.health}\t${drainText(row.drain)}\t${row.running}\t${row.pool}\t${row.placed}\t${row.maxSessions}\t${row.memoryMb} MiB\t${row.weight}\n`);
      }
      return 0;
    }
    throw new CliError(`Usage: ${HOSTS_USAGE}`);
  } finally {
    redis.disconnect();
  }
}

/** The DRAINED column: no, the drain's progress, or done. */
function drainText(drain: { sessions: number; pool: number; done: boolean } | null): string {
  if (!drain) return "no";
  if (drain.done) return "yes, empty";
  const left = [drain.sessions && `${drain.sessions} session${drain.sessions === 1 ? "" : "s"}`, drain.pool && `${drain.pool} warm`].filter(Boolean).join(", ");
  return `draining (${left || "host down"} left)`;
}
