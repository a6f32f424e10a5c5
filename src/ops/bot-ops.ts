import type { Redis } from "ioredis";
import type { OpsConfig } from "../config.js";
import type { Logger } from "../log.js";
import { botMetrics, type BotMetrics } from "./metrics.js";
import { startOpsServer, type OpsEndpoints, type OpsServer } from "./ops-server.js";
import { platformCheck, Readiness, redisCheck } from "./readiness.js";

export interface BotOps {
  metrics: BotMetrics;
  /** The platform's start resolved: from now /readyz asks it whether it is connected. */
  connected(platform: string, isConnected: () => boolean): void;
  close(): Promise<void>;
}

/**
 * The bot's ops side: /metrics, /healthz and /readyz on a port of their own,
 * METRICS_HOST:BOT_METRICS_PORT (0: not served; a taken port only warns), behind METRICS_TOKEN when
 * it is set. Never on PORT: that port is Slack's public one, and answers its events alone.
 * Ready when Redis answers and every configured platform is connected (Discord's gateway session,
 * Slack's Socket Mode WebSocket; both reconnect by themselves, and /readyz shows the gaps): the
 * platforms are named by the bot, which connects them.
 */
export async function startBotOps(config: OpsConfig, log: Logger, redis: Redis, platforms: readonly string[]): Promise<BotOps> {
  const metrics = botMetrics();
  const up = new Map<string, () => boolean>();
  const readiness = new Readiness([redisCheck(redis), ...platforms.map((name) => platformCheck(name, () => up.get(name)?.() ?? false))]);
  const endpoints: OpsEndpoints = { registry: metrics.registry, readiness, log: log.child({ component: "ops" }), token: config.METRICS_TOKEN };
  const server: OpsServer | undefined = await startOpsServer(endpoints, { port: config.BOT_METRICS_PORT, host: config.METRICS_HOST });
  return {
    metrics,
    connected: (platform, isConnected) => void up.set(platform, isConnected),
    async close() {
      await server?.close();
      readiness.close();
    },
  };
}
