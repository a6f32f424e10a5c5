import { createHash, randomBytes } from "node:crypto";

/**
 * Sandboxes are found by their name on the engine (a container's; a pod's), so any codebot process
 * (a worker, `codebot exec`) reaches the same session. A session id is escaped reversibly into the
 * name: characters Docker doesn't allow in names become `_xx` hex; an id too long for that is
 * hashed (`__` + hex, a form escaping never produces).
 */
const MAX_ESCAPED = 120;

export interface SessionNaming {
  sessionName(sessionId: string): string;
  poolName(): string;
  sessionPrefix: string;
  poolPrefix: string;
  sessionIdFromName(name: string): string | undefined;
}

function escapeId(id: string): string {
  return Array.from(Buffer.from(id, "utf8"))
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9.-]/.test(char) ? char : `_${byte.toString(16).padStart(2, "0")}`;
    })
    .join("");
}

function unescapeId(escaped: string): string | undefined {
  if (escaped.startsWith("__")) return undefined; // hashed: the id is not recoverable
  const bytes: number[] = [];
  for (let i = 0; i < escaped.length; i++) {
    if (escaped[i] === "_") {
      bytes.push(parseInt(escaped.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(escaped.charCodeAt(i));
  }
  return Buffer.from(bytes).toString("utf8");
}

export function sessionNaming(namespace: string): SessionNaming {
  const sessionPrefix = `${namespace}-s-`;
  const poolPrefix = `${namespace}-pool-`;
  return {
    sessionPrefix,
    poolPrefix,
    sessionName(sessionId) {
      const escaped = escapeId(sessionId);
      if (escaped.length <= MAX_ESCAPED) return sessionPrefix + escaped;
      return `${sessionPrefix}__${createHash("sha256").update(sessionId).digest("hex").slice(0, 32)}`;
    },
    poolName: () => poolPrefix + randomBytes(6).toString("hex"),
    sessionIdFromName(name) {
      const bare = name.replace(/^\//, "");
      return bare.startsWith(sessionPrefix) ? unescapeId(bare.slice(sessionPrefix.length)) : undefined;
    },
  };
}
