import type { RequestHandler } from "express";
import type { AdminConfig } from "../config.js";
import { sameSecret } from "../core/same-secret.js";

export { sameSecret };

/** Who may use the admin page: a bearer token (scripts) and/or a user and password (basic auth, browsers). */
export interface AdminCredentials {
  token?: string;
  user: string;
  password?: string;
}

/** How a request proved itself: a browser's basic auth is sent by itself (so it needs a CSRF defence), a bearer token never is. */
export type AdminAuthKind = "bearer" | "basic";

export const REALM = "codebot admin";

/** The configured credentials; none when neither ADMIN_TOKEN nor ADMIN_PASSWORD is set (the page then stays off). */
export function adminCredentials(config: Pick<AdminConfig, "ADMIN_TOKEN" | "ADMIN_USER" | "ADMIN_PASSWORD">): AdminCredentials | undefined {
  if (!config.ADMIN_TOKEN && !config.ADMIN_PASSWORD) return undefined;
  return { token: config.ADMIN_TOKEN, user: config.ADMIN_USER, password: config.ADMIN_PASSWORD };
}

/** How the Authorization header authenticates, if it does. */
export function authenticate(header: string | undefined, credentials: AdminCredentials): AdminAuthKind | undefined {
  if (!header) return undefined;
  const [scheme, value = ""] = header.trim().split(/\s+/, 2);
  if (/^bearer$/i.test(scheme ?? "") && credentials.token) return sameSecret(value, credentials.token) ? "bearer" : undefined;
  if (/^basic$/i.test(scheme ?? "") && credentials.password) {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return undefined;
    // Both compared whatever the first says: a wrong user takes as long as a wrong password.
    const userOk = sameSecret(decoded.slice(0, colon), credentials.user);
    const passwordOk = sameSecret(decoded.slice(colon + 1), credentials.password);
    return userOk && passwordOk ? "basic" : undefined;
  }
  return undefined;
}

/** Lets authenticated requests through (res.locals.auth says how); anything else is a 401 that asks the browser for basic auth when it is configured. */
export function requireAdmin(credentials: AdminCredentials): RequestHandler {
  const challenge = credentials.password ? `Basic realm="${REALM}", charset="UTF-8"` : `Bearer realm="${REALM}"`;
  return (req, res, next) => {
    const kind = authenticate(req.get("authorization"), credentials);
    if (kind) {
      res.locals.auth = kind;
      return next();
    }
    res.status(401).set({ "www-authenticate": challenge, "cache-control": "no-store", "content-type": "text/plain; charset=utf-8" }).send("Authentication required.\n");
  };
}
