import type { Redis } from "ioredis";

/** A dependency a process needs: its probe resolves to undefined when it answers, else a short fixed reason. */
export interface ReadinessCheck {
  /** What /readyz names when it is away: "redis", "docker:gpu", "slack". */
  name: string;
  probe(): Promise<string | undefined>;
  /**
   * Checks sharing a group need only one of them to pass (the engines of a fleet: threads move off
   * a host that is down). Without one, the check must pass.
   */
  group?: string;
  /** Releases what the probe holds (a connection of its own). */
  close?(): void;
}

export interface ReadinessReport {
  ready: boolean;
  /** Every check's state: "ok", or why it is away. Names and fixed words only: never an error's text (it may hold a URL with a password). */
  checks: Record<string, string>;
  /** The checks that failed, ready or not (a fleet host may be away while the worker is ready). */
  away: string[];
}

/** How long a probe may take before it counts as away. */
const PROBE_TIMEOUT_MS = 1000;
/** A report is reused this long, so a storm of probes and scrapes doesn't hammer Redis and the engines. */
const REPORT_CACHE_MS = 2000;

/** The process's readiness: every check run at once, each with a timeout, the report cached for two seconds. */
export class Readiness {
  private last: { at: number; report: Promise<ReadinessReport> } | undefined;

  constructor(
    private readonly checks: ReadinessCheck[],
    private readonly cacheMs = REPORT_CACHE_MS,
  ) {}

  report(): Promise<ReadinessReport> {
    if (this.last && Date.now() - this.last.at < this.cacheMs) return this.last.report;
    const report = this.run();
    this.last = { at: Date.now(), report };
    return report;
  }

  close(): void {
    for (const check of this.checks) check.close?.();
  }

  private async run(): Promise<ReadinessReport> {
    const results = await Promise.all(this.checks.map(async (check) => ({ check, reason: await probeWithTimeout(check) })));
    const checks = Object.fromEntries(results.map(({ check, reason }) => [check.name, reason ?? "ok"]));
    const away = results.filter(({ reason }) => reason !== undefined).map(({ check }) => check.name);
    const groups = new Map<string, boolean>();
    for (const { check, reason } of results) if (check.group) groups.set(check.group, (groups.get(check.group) ?? false) || reason === undefined);
    const ready = results.every(({ check, reason }) => (check.group ? groups.get(check.group) : reason === undefined));
    return { ready, checks, away };
  }
}

async function probeWithTimeout(check: ReadinessCheck): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve("no answer"), PROBE_TIMEOUT_MS)));
  try {
    return await Promise.race([check.probe().catch(() => "unreachable"), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Redis answers a PING, on a connection of the check's own: the process's connections queue
 * commands while Redis is away (BullMQ wants that), where this one fails them at once, so probes
 * don't pile up during an outage. It reconnects by itself like the others.
 */
export function redisCheck(redis: Redis): ReadinessCheck {
  const own = redis.duplicate({ enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  own.on("error", () => undefined); // the process's own connection logs Redis problems
  return {
    name: "redis",
    async probe() {
      if (own.status !== "ready") return "unreachable";
      return (await own.ping()) === "PONG" ? undefined : "unexpected answer";
    },
    close: () => own.disconnect(),
  };
}

/** A Docker engine answers its _ping. In a fleet, one of the group's engines is enough. */
export function engineCheck(name: string, engine: { ping(): Promise<unknown> }, group?: string): ReadinessCheck {
  return { name, group, probe: async () => (await engine.ping(), undefined) };
}

/** A chat platform is connected once its start resolved. */
export function platformCheck(name: string, connected: () => boolean): ReadinessCheck {
  return { name, probe: async () => (connected() ? undefined : "not connected") };
}
