import { listenOrWarn } from "../ops/listen-or-warn.js";
import { createServer } from "node:http";
import type { Queue } from "bullmq";
import express, { type ErrorRequestHandler, type RequestHandler } from "express";
import type { Redis } from "ioredis";
import type { BudgetPolicyConfig } from "../budget/budget-policy.js";
import type { AdminConfig } from "../config.js";

/** The admin page reads its own section, and the budgets' to show them. */
export type AdminPageConfig = AdminConfig & BudgetPolicyConfig;
import type { Logger } from "../log.js";
import type { Keys } from "../redis/redis-keys.js";
import { adminCredentials, requireAdmin } from "./admin-auth.js";
import { BOARD_PATH, queueBoard } from "./admin-board.js";
import { CsrfGuard } from "./admin-csrf.js";
import { loadOverview } from "./admin-data.js";
import { killFlash, killHandler } from "./admin-kill.js";
import { overviewPage } from "./admin-pages.js";
import { removedFlash, removeScheduleHandler } from "./admin-schedules.js";
import type { Schedules } from "../schedules/schedules.js";
import { ADMIN_CSS } from "./admin-style.js";

export interface AdminDeps {
  redis: Redis;
  keys: Keys;
  /** The turn queue (the bot's own), for the board. */
  queue: Queue;
  /** The schedules (src/schedules/), listed with their remove buttons; none: the section says so. */
  schedules?: Schedules;
}

export interface AdminServer {
  port: number;
  close(): Promise<void>;
}

/** The pages' own policy: no script at all, styles from the page's origin, forms to it only, never in a frame. */
const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const everywhere: RequestHandler = (_req, res, next) => {
  res.set({ "x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "same-origin", "cache-control": "no-store" });
  next();
};

/** The admin app: everything behind the credentials, unsafe requests from the page's own origin only. */
export function adminApp(config: AdminPageConfig, log: Logger, { redis, keys, queue, schedules }: AdminDeps): express.Express {
  const credentials = adminCredentials(config);
  if (!credentials) throw new Error("the admin page needs ADMIN_TOKEN or ADMIN_PASSWORD");
  const csrf = new CsrfGuard();
  const app = express();
  app.disable("x-powered-by");
  app.use(everywhere, requireAdmin(credentials), csrf.sameOrigin());
  app.get("/", (_req, res) => res.redirect(302, "/admin"));
  app.get("/admin/admin.css", (_req, res) => void res.type("text/css").send(ADMIN_CSS));
  app.get("/admin", async (req, res) => {
    const overview = await loadOverview(redis, keys, config, schedules);
    res.set("content-security-policy", PAGE_CSP).type("html").send(overviewPage(overview, csrf.token, killFlash(req), removedFlash(req)));
  });
  const form = express.urlencoded({ extended: false, limit: "8kb", parameterLimit: 10 });
  app.post("/admin/sessions/kill", form, killHandler(redis, keys, csrf, log));
  if (schedules) app.post("/admin/schedules/remove", form, removeScheduleHandler(schedules, csrf, log));
  app.use(BOARD_PATH, queueBoard(queue));
  app.use((_req, res) => void res.status(404).type("text/plain").send("Not found.\n"));
  const failed: ErrorRequestHandler = (error: unknown, req, res, _next) => {
    log.warn({ err: error, path: req.path }, "an admin page request failed");
    if (!res.headersSent) res.status(500).type("text/plain").send("Something went wrong (see the bot's log).\n");
    else res.end();
  };
  app.use(failed);
  return app;
}

/**
 * The admin page on ADMIN_HOST:ADMIN_PORT (0: off). Without a credential it stays off with one
 * error line, and a port that can't be had is one warning: the bot runs on either way.
 */
export async function startAdminServer(config: AdminPageConfig, log: Logger, deps: AdminDeps): Promise<AdminServer | undefined> {
  const adminLog = log.child({ component: "admin" });
  const { ADMIN_PORT: port, ADMIN_HOST: host } = config;
  if (port === 0) return undefined;
  if (!adminCredentials(config)) {
    adminLog.error({ port }, "ADMIN_PORT is set but neither ADMIN_TOKEN nor ADMIN_PASSWORD is: the admin page stays off (the bot runs on)");
    return undefined;
  }
  const server = createServer(adminApp(config, adminLog, deps));
  const listening = await listenOrWarn(server, { port, host }, adminLog, "the admin page");
  if (listening) adminLog.info({ port, host, basicAuth: Boolean(config.ADMIN_PASSWORD), bearerToken: Boolean(config.ADMIN_TOKEN) }, "admin page listening");
  return listening;
}
