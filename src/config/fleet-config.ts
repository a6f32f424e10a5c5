import { z } from "zod";
import { HostSpecError, parseHosts } from "../core/host-spec.js";
import { integer } from "./config-fields.js";

/** SANDBOX_HOSTS as src/core/host-spec.ts reads it: a bad entry (tcp:// without TLS among them) is refused at once. */
function checkHosts(value: string, context: z.RefinementCtx): void {
  try {
    parseHosts(value);
  } catch (error) {
    if (!(error instanceof HostSpecError)) throw error;
    context.addIssue({ code: z.ZodIssueCode.custom, message: error.message });
  }
}

/** The engines sandboxes run on (src/fleet/): `[fleet]` in .env.example. */
export const fleetSchema = z.object({
  DOCKER_HOST: z.string().optional(),
  /** A fleet of engines (see src/core/host-spec.ts); unset: the one engine of DOCKER_HOST. tcp:// needs TLS (or insecure=true). */
  SANDBOX_HOSTS: z.string().superRefine(checkHosts).optional(),
  /** Seconds between health checks of each fleet host. */
  SANDBOX_HOST_CHECK_SECONDS: integer(2, 1, 600),
  /** Failed checks in a row after which a host is down and its threads move. */
  SANDBOX_HOST_DOWN_AFTER: integer(3, 1, 100),
});

export type FleetConfig = Readonly<z.infer<typeof fleetSchema>>;
