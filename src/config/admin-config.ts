import { z } from "zod";
import { integer, token } from "./config-fields.js";

/**
 * The admin page (src/admin/), served by the bot on a port of its own: 0 is off. It needs
 * ADMIN_TOKEN (`Authorization: Bearer`, for scripts) and/or ADMIN_PASSWORD (basic auth, for
 * browsers). `[admin]` in .env.example.
 */
export const adminSchema = z.object({
  ADMIN_PORT: integer(0, 0, 65535),
  /** 127.0.0.1 keeps it on this machine; in a container 0.0.0.0, with the port published to the host's 127.0.0.1. */
  ADMIN_HOST: z.string().min(1).default("127.0.0.1"),
  ADMIN_TOKEN: token().optional(),
  ADMIN_USER: z.string().min(1).max(100).regex(/^[^:]+$/, "a user name without ':'").default("admin"),
  ADMIN_PASSWORD: z.string().min(12, "at least 12 characters").optional(),
});

export type AdminConfig = Readonly<z.infer<typeof adminSchema>>;
