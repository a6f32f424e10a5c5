import type { DiscordConfig } from "./discord-config.js";
import type { SlackConfig } from "./slack-config.js";

/**
 * The chat platforms' sections together: what src/platforms/registry.ts and each adapter are handed
 * (an adapter reads its own platform's part). The local chat has no variables of its own: it goes
 * through Redis (`[redis]`), which its ports are given as dependencies.
 */
export type PlatformsConfig = SlackConfig & DiscordConfig;
