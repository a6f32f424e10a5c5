import { z } from "zod";

/** Data sources (src/datasources/, #19): `[datasources]` in .env.example. */
export const datasourcesSchema = z.object({
  /** A YAML file of SQL databases and HTTP APIs, read and checked at the worker's start; unset: none. */
  DATA_SOURCES_FILE: z.string().min(1).max(4096).optional(),
});

export type DatasourcesConfig = Readonly<z.infer<typeof datasourcesSchema>>;
