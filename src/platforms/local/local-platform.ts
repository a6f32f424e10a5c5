import type { PlatformAdapter } from "../platform-adapter.js";
import { BlobStore } from "./blob-store.js";
import { localAttachments } from "./local-attachments.js";
import { localDelivery } from "./local-delivery.js";

/**
 * The local chat (`codebot ask`, `codebot chat`): the CLI enqueues requests itself (no listener),
 * answers come back through a Redis stream, attached files through Redis blobs. Always there.
 */
export const localPlatform: PlatformAdapter<"local"> = {
  name: "local",
  configured: () => true,
  delivery: (_config, { redis, keys }) => localDelivery(redis, keys),
  attachments: (_config, { redis, keys }) => localAttachments(new BlobStore(redis, keys)),
  promptFacts: { place: "a local chat" },
  // A terminal pings nobody.
  mentions: (text) => text,
};
