import { z } from "zod";
import { integer } from "./config-fields.js";

/** The /export record (src/export/): `[export]` in .env.example. */
export const exportSchema = z.object({
  /** What one person may add to the export log (/export's record of turns, images included) per day in BUDGET_TIMEZONE, in MB; 0: no limit. */
  EXPORT_LOG_MAX_MB_PER_USER_DAY: integer(64, 0, 1_048_576),
});

export type ExportConfig = Readonly<z.infer<typeof exportSchema>>;
