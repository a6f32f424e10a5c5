import type { PlatformsConfig } from "../config.js";
import type { AccessRules } from "../core/access-policy.js";
import type { AttachmentSource } from "../core/attachment-source.js";
import type { Platform } from "../core/platform-names.js";
import type { Delivery } from "../core/reply.js";
import { discordPlatform } from "./discord/discord-platform.js";
import { localPlatform } from "./local/local-platform.js";
import type { PlatformAdapter, PlatformPortDeps } from "./platform-adapter.js";
import { slackPlatform } from "./slack/slack-platform.js";

/**
 * Every chat platform, one line each. A new platform is a folder under src/platforms/ with its
 * adapter, a line here, and its name in src/core/platform-names.ts (the type below wants the two
 * to match). The order is the order the bot connects them and logs name them.
 */
const REGISTRY: { [Name in Platform]: PlatformAdapter<Name> } = {
  local: localPlatform,
  slack: slackPlatform,
  discord: discordPlatform,
};

export const PLATFORMS: readonly PlatformAdapter[] = Object.values(REGISTRY);

/** The platforms the configuration sets up. */
export function configuredPlatforms(config: PlatformsConfig): PlatformAdapter[] {
  return PLATFORMS.filter((platform) => platform.configured(config));
}

export interface PlatformPorts {
  deliveries: Partial<Record<Platform, Delivery>>;
  attachments: Partial<Record<Platform, AttachmentSource>>;
  /** What the model is told about where it works, per platform. */
  places: Partial<Record<Platform, string>>;
}

/** A worker's ports to each configured platform. */
export function platformPorts(config: PlatformsConfig, deps: PlatformPortDeps): PlatformPorts {
  const ports: PlatformPorts = { deliveries: {}, attachments: {}, places: {} };
  for (const platform of configuredPlatforms(config)) {
    ports.deliveries[platform.name] = platform.delivery(config, deps);
    ports.attachments[platform.name] = platform.attachments(config, deps);
    ports.places[platform.name] = platform.promptFacts.place;
  }
  return ports;
}

/** The access rules of each configured platform that has some (the local chat has none). */
export function platformAccessRules(config: PlatformsConfig): Partial<Record<Platform, AccessRules>> {
  return Object.fromEntries(configuredPlatforms(config).flatMap((platform) => (platform.accessRules ? [[platform.name, platform.accessRules(config)]] : [])));
}
