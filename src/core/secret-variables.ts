/** Environment variables that hold secrets: never logged, never passed into a sandbox or a job. */
export const SECRET_VARIABLES = [
  "OPENAI_API_KEY",
  "SLACK_BOT_TOKEN",
  "SLACK_APP_TOKEN",
  "SLACK_SIGNING_SECRET",
  "DISCORD_TOKEN",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "ADMIN_TOKEN",
  "ADMIN_PASSWORD",
  "METRICS_TOKEN",
] as const;
