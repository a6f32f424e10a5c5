import { destination, pino, type Logger } from "pino";
import { SECRET_VARIABLES } from "./config.js";

export type { Logger };

/** Structured JSON logs on stderr (stdout belongs to the CLI's output). Secret-looking keys are redacted. */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      base: { app: "codebot" },
      redact: { paths: [...SECRET_VARIABLES, "token", "apiKey", "*.token", "*.apiKey", "headers.authorization"], censor: "[redacted]" },
    },
    destination({ dest: 2, sync: true }),
  );
}
