/** Why a long-running command stops: a signal, or its parent process went away. */
export type ShutdownReason = NodeJS.Signals | "parent-exited";

const PARENT_CHECK_MS = 500;

/**
 * Resolves with the first SIGTERM or SIGINT: long-running commands stop gracefully on either.
 * Also when the process that started this one exits (it is re-parented): `npx codebot worker`
 * runs the CLI under a shell that npm signals and that dies without passing SIGTERM on, which
 * would otherwise leave the worker running with nobody to stop it.
 */
export function waitForShutdownSignal(): Promise<ShutdownReason> {
  return new Promise((resolve) => {
    const parent = process.ppid;
    // Started by init or from outside the container's PID namespace (PID 1 in a container): nothing to watch.
    const watched = parent > 1;
    const timer = setInterval(() => process.ppid !== parent && done("parent-exited"), PARENT_CHECK_MS);
    timer.unref();
    if (!watched) clearInterval(timer);
    function done(reason: ShutdownReason) {
      clearInterval(timer);
      process.off("SIGTERM", done);
      process.off("SIGINT", done);
      resolve(reason);
    }
    process.on("SIGTERM", done);
    process.on("SIGINT", done);
  });
}

/** How long a stopped command may take to exit on its own before it is made to. */
const EXIT_GRACE_MS = 2000;

/**
 * A long-running command has stopped (its work finished, its connections closed): the process
 * exits with `code` even if a client library still holds a timer or a socket, e.g. a Redis
 * client retrying a server that is away. The timer doesn't hold the process itself.
 */
export function exitOnceStopped(code: number): void {
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
}
