import type { z } from "zod";
import { adminSchema, type AdminConfig } from "./config/admin-config.js";
import { budgetSchema, type BudgetConfig } from "./config/budget-config.js";
import { chatSchema, type ChatConfig } from "./config/chat-config.js";
import { datasourcesSchema, type DatasourcesConfig } from "./config/datasources-config.js";
import { discordSchema, type DiscordConfig } from "./config/discord-config.js";
import { exportSchema, type ExportConfig } from "./config/export-config.js";
import { fleetSchema, type FleetConfig } from "./config/fleet-config.js";
import { kubernetesSchema, type KubernetesConfig } from "./config/kubernetes-config.js";
import { llmSchema, type LlmConfig } from "./config/llm-config.js";
import { logSchema, type LogConfig } from "./config/log-config.js";
import { opsSchema, type OpsConfig } from "./config/ops-config.js";
import { queueSchema, type QueueConfig } from "./config/queue-config.js";
import { redisSchema, type RedisConfig } from "./config/redis-config.js";
import { sandboxSchema, type SandboxConfig } from "./config/sandbox-config.js";
import { scheduleSchema, type ScheduleConfig } from "./config/schedule-config.js";
import { slackProblems, slackSchema, type SlackConfig } from "./config/slack-config.js";
import { turnSchema, type TurnConfig } from "./config/turn-config.js";
import { workspaceSchema, type WorkspaceConfig } from "./config/workspace-config.js";

export { SECRET_VARIABLES } from "./core/secret-variables.js";
export type { AdminConfig, BudgetConfig, ChatConfig, DatasourcesConfig, DiscordConfig, ExportConfig, FleetConfig, KubernetesConfig, LlmConfig, LogConfig, OpsConfig, QueueConfig, RedisConfig, SandboxConfig, ScheduleConfig, SlackConfig, TurnConfig, WorkspaceConfig };
export type { PlatformsConfig } from "./config/platforms-config.js";

/**
 * The configuration's sections, each with its own schema in src/config/ and its own heading in
 * .env.example (`# --- Title [name] ---`, in this order). A subsystem's factory takes its section's
 * type (`SandboxConfig`, …), never the whole Config; the composition roots (src/app/) hold the whole.
 */
export const CONFIG_SECTIONS = {
  log: logSchema,
  fleet: fleetSchema,
  kubernetes: kubernetesSchema,
  sandbox: sandboxSchema,
  workspace: workspaceSchema,
  datasources: datasourcesSchema,
  llm: llmSchema,
  turn: turnSchema,
  redis: redisSchema,
  queue: queueSchema,
  ops: opsSchema,
  admin: adminSchema,
  chat: chatSchema,
  budget: budgetSchema,
  export: exportSchema,
  schedules: scheduleSchema,
  "platforms.slack": slackSchema,
  "platforms.discord": discordSchema,
} as const satisfies Record<string, z.AnyZodObject>;

export type ConfigSection = keyof typeof CONFIG_SECTIONS;

/** The loaded configuration: every section's variables side by side, under their environment names. */
export type Config = LogConfig &
  FleetConfig &
  KubernetesConfig &
  SandboxConfig &
  WorkspaceConfig &
  DatasourcesConfig &
  LlmConfig &
  TurnConfig &
  RedisConfig &
  QueueConfig &
  OpsConfig &
  AdminConfig &
  ChatConfig &
  BudgetConfig &
  ExportConfig &
  ScheduleConfig &
  SlackConfig &
  DiscordConfig;

/** Every variable the config reads (docker-compose.yml and .env.example list each: test/compose/). */
export const CONFIG_VARIABLES = Object.values(CONFIG_SECTIONS).flatMap((schema) => Object.keys(schema.shape)) as ReadonlyArray<keyof Config>;

/** The section each variable belongs to. */
export const SECTION_OF: ReadonlyMap<string, ConfigSection> = new Map(
  Object.entries(CONFIG_SECTIONS).flatMap(([section, schema]) => Object.keys(schema.shape).map((name) => [name, section as ConfigSection] as const)),
);

/** Rules across sections: what a platform needs once one of its variables is set; ports that must differ. */
function crossSectionProblems(config: Config): string[] {
  const problems: string[] = [];
  if (config.SANDBOX_BACKEND === "kubernetes" && config.SANDBOX_HOSTS) {
    problems.push("  SANDBOX_HOSTS: a fleet of Docker engines; with SANDBOX_BACKEND=kubernetes the cluster places sandboxes (unset it)");
  }
  if (config.BOT_METRICS_PORT !== 0 && config.BOT_METRICS_PORT === config.PORT) {
    problems.push("  BOT_METRICS_PORT: must differ from PORT (Slack's public port never serves /metrics, /healthz or /readyz)");
  }
  return [...problems, ...slackProblems(config)];
}

export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
}

/** Reads and validates the environment once, each section by its own schema; every module gets its section from the result. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (`KEY=` in an .env file) means "use the default", as if it were unset.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const schema of Object.values(CONFIG_SECTIONS)) {
    const parsed = schema.safeParse(given);
    if (parsed.success) Object.assign(values, parsed.data);
    else problems.push(...parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`));
  }
  if (!problems.length) problems.push(...crossSectionProblems(values as Config));
  if (problems.length) throw new ConfigError(`Invalid configuration:\n${problems.join("\n")}`);
  return Object.freeze(values) as Config;
}
