import type { Redis } from "ioredis";
import type { Request, RequestHandler } from "express";
import type { Logger } from "../log.js";
import { requestSessionKill } from "../ops/session-directory.js";
import type { Keys } from "../redis/redis-keys.js";
import type { CsrfGuard } from "./admin-csrf.js";
import type { KillFlash } from "./admin-pages.js";

const MAX_SESSION_ID = 1000;

/**
 * POST /admin/sessions/kill (form: sessionId, csrf): asks every worker to end the session and
 * delete its saved workspace, as `codebot sessions kill ID` does, then sends the browser back to
 * the overview, which says the kill was asked for (and how many workers heard it). A bearer-token
 * caller gets JSON instead: `{"sessionId": …, "heard": n}`.
 */
export function killHandler(redis: Redis, keys: Keys, csrf: CsrfGuard, log: Logger): RequestHandler {
  return (req, res) => {
    const sessionId: unknown = (req.body as Record<string, unknown> | undefined)?.sessionId;
    if (!csrf.tokenOk(req, res.locals.auth)) return void res.status(403).type("text/plain").send("Refused: the form's token is missing or stale (reload the admin page).\n");
    if (typeof sessionId !== "string" || !sessionId || sessionId.length > MAX_SESSION_ID) return void res.status(400).type("text/plain").send("A sessionId is needed.\n");
    requestSessionKill(redis, keys, sessionId).then(
      (heard) => {
        log.info({ sessionId, heard, auth: res.locals.auth }, "the admin page asked the workers to end a session");
        if (res.locals.auth === "bearer") return void res.status(heard ? 202 : 503).json({ sessionId, heard });
        res.redirect(303, `/admin?${new URLSearchParams({ killed: sessionId, heard: String(heard) }).toString()}#sessions`);
      },
      (error: unknown) => {
        log.warn({ err: error, sessionId }, "could not ask the workers to end a session");
        res.status(503).type("text/plain").send("Redis could not be reached: nothing was ended.\n");
      },
    );
  };
}

/** The kill the overview's query reports (after the redirect above), if any. */
export function killFlash(req: Request): KillFlash | undefined {
  const { killed, heard } = req.query;
  if (typeof killed !== "string" || !killed || killed.length > MAX_SESSION_ID) return undefined;
  return { sessionId: killed, heard: typeof heard === "string" && /^\d{1,6}$/.test(heard) ? Number(heard) : 0 };
}
