import { randomBytes } from "node:crypto";
import type { Request, RequestHandler } from "express";
import { sameSecret } from "./admin-auth.js";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Why a browser's basic auth needs this: the browser sends the credentials by itself with any
 * request to the page, a form on another site included. So a basic-auth'd request that changes
 * something must come from the page itself: the browser says where it comes from (Sec-Fetch-Site,
 * else Origin against Host), and the form carries a token only the page knows (one per process).
 * Bearer-token requests skip both: no browser adds that header by itself.
 */
export class CsrfGuard {
  /** The token the page's forms carry; a new one each time the bot starts (a stale page: reload it). */
  readonly token = randomBytes(32).toString("base64url");

  /** Refuses (403) a basic-auth'd unsafe request from anywhere but the page's own origin; for every route, the board's too. */
  sameOrigin(): RequestHandler {
    return (req, res, next) => {
      if (SAFE_METHODS.has(req.method) || res.locals.auth === "bearer" || fromOwnOrigin(req)) return next();
      res.status(403).set({ "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" }).send("Refused: this request doesn't come from the admin page (scripts use ADMIN_TOKEN).\n");
    };
  }

  /** Whether a form's token is this process's (always true for bearer-token requests). */
  tokenOk(req: Request, auth: unknown): boolean {
    if (auth === "bearer") return true;
    const given: unknown = (req.body as Record<string, unknown> | undefined)?.csrf;
    return typeof given === "string" && sameSecret(given, this.token);
  }
}

/** What the browser says of where the request comes from: the page's own origin, or not (nothing said: not). */
function fromOwnOrigin(req: Request): boolean {
  const site = req.get("sec-fetch-site");
  if (site !== undefined) return site === "same-origin";
  const origin = req.get("origin") ?? req.get("referer");
  if (!origin) return false;
  try {
    return new URL(origin).host === req.get("host");
  } catch {
    return false;
  }
}
