import type { Redis } from "ioredis";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { botMetrics, type BotMetrics } from "./metrics.js";
import { opsRoutes, startOpsServer, type OpsEndpoints, type OpsServer } from "./ops-server.js";
import { platformCheck, Readiness, redisCheck } from "./readiness.js";

export interface BotOps {
  metrics: BotMetrics;
  /** The endpoints as Bolt's customRoutes, when Slack's HTTP receiver holds PORT (else none). */
  slackRoutes: ReturnType<typeof opsRoutes>;
  /** The platform's start resolved: from now /readyz asks it whether it is connected. */
  connected(platform: string, isConnected: () => boolean): void;
  close(): Promise<void>;
}

/**
 * The bot's ops side. Its endpoints live on PORT: on Bolt's HTTP receiver when Slack uses HTTP
 * events (routes added to it), else (Socket Mode, Discord only) on a small server of their own on
 * METRICS_HOST:PORT, which METRICS_PORT=0 turns off and which a taken port only warns about.
 * Ready when Redis answers and every configured platform is connected (Discord's gateway session,
 * Slack's Socket Mode WebSocket; both reconnect by themselves, and /readyz shows the gaps).
 */
export async function startBotOps(config: Config, log: Logger, redis: Redis): Promise<BotOps> {
  const metrics = botMetrics();
  const platforms = [...(config.SLACK_BOT_TOKEN ? ["slack"] : []), ...(config.DISCORD_TOKEN ? ["discord"] : [])];
  const up = new Map<string, () => boolean>();
  const readiness = new Readiness([redisCheck(redis), ...platforms.map((name) => platformCheck(name, () => up.get(name)?.() ?? false))]);
  const endpoints: OpsEndpoints = { registry: metrics.registry, readiness, log: log.child({ component: "ops" }) };
  const onSlackHttp = Boolean(config.SLACK_BOT_TOKEN && !config.SLACK_APP_TOKEN);
  let server: OpsServer | undefined;
  if (!onSlackHttp && config.METRICS_PORT !== 0) server = await startOpsServer(endpoints, { port: config.PORT, host: config.METRICS_HOST });
  return {
    metrics,
    slackRoutes: onSlackHttp ? opsRoutes(endpoints) : [],
    connected: (platform, isConnected) => void up.set(platform, isConnected),
    async close() {
      await server?.close();
      readiness.close();
    },
  };
}
