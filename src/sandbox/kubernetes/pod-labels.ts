import { createHash, randomBytes } from "node:crypto";

/**
 * How codebot's sandbox pods are named and labelled in the sandbox namespace. A session's name
 * (session-naming.ts: escaped ids, capitals, underscores) is no valid pod name and can't be given
 * to a pod claimed from the pool (pods are never renamed), so a session is found by a label, the
 * hash of its name; its name itself is kept in an annotation. A cold start names its pod after the
 * hash too, so two processes starting one session at once collide on the name (409 AlreadyExists).
 */
export const LABEL_APP = "app.kubernetes.io/name";
export const APP = "codebot-sandbox";
/** codebot's SANDBOX_NAMESPACE: the installation a pod belongs to. */
export const LABEL_INSTALLATION = "codebot.dev/installation";
/** "pool" (unclaimed) or "session". */
export const LABEL_ROLE = "codebot.dev/role";
/** The session's name, hashed (labels are at most 63 characters of a small alphabet). */
export const LABEL_SESSION = "codebot.dev/session";
/** The image, runtime class and limits a pod was started with, hashed: a pool member of other ones is retired. */
export const LABEL_SPEC = "codebot.dev/spec";
export const ANNOTATION_SESSION_NAME = "codebot.dev/session-name";
/** Set by the one worker that saves a terminating pod's session (the patch's resourceVersion test picks it). */
export const ANNOTATION_HIBERNATING = "codebot.dev/hibernating";

export const sessionHash = (sessionName: string): string => createHash("sha256").update(sessionName).digest("hex").slice(0, 40);

export const sessionPodName = (installation: string, sessionName: string): string => `${installation}-s-${sessionHash(sessionName)}`;

export const poolPodName = (installation: string): string => `${installation}-pool-${randomBytes(6).toString("hex")}`;

/** A label selector of this installation's pods (of one role, when given). */
export function podSelector(installation: string, extra: Record<string, string> = {}): string {
  return Object.entries({ [LABEL_APP]: APP, [LABEL_INSTALLATION]: installation, ...extra })
    .map(([key, value]) => `${key}=${value}`)
    .join(",");
}

/** A JSON Pointer segment of a label or annotation key ("codebot.dev/role" → "codebot.dev~1role"). */
export const pointer = (key: string): string => key.replace(/~/g, "~0").replace(/\//g, "~1");
