import { z } from "zod";

/** The field kinds every section's schema is written in. An empty variable never reaches them (it means "unset"). */

export const integer = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

export const boolean = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"])
    .transform((value) => ["true", "1", "yes"].includes(value))
    .default(fallback ? "true" : "false");

/** A comma-separated list; empty means "no restriction". */
export const list = () =>
  z
    .string()
    .default("")
    .transform((value) => value.split(",").map((item) => item.trim()).filter(Boolean));

/** A bearer token compared in constant time: long enough not to be guessed. */
export const token = () => z.string().min(16, "at least 16 characters (e.g. `openssl rand -hex 24`)");
