import Docker from "dockerode";

/**
 * The runtimes the sandbox attacks run under: runc always, and gVisor (runsc) where the engine
 * lists it (`.ci/run` registers it). CODEBOT_TEST_RUNTIMES (or a pinned SANDBOX_RUNTIME) names them
 * instead: "runc", or another registered gVisor runtime such as "runc,runsc-systrap".
 */
export async function sandboxRuntimes(): Promise<string[]> {
  const pinned = process.env.SANDBOX_RUNTIME && process.env.SANDBOX_RUNTIME !== "auto" ? process.env.SANDBOX_RUNTIME : undefined;
  const wanted = (process.env.CODEBOT_TEST_RUNTIMES ?? pinned)?.split(",").map((name) => name.trim()).filter(Boolean);
  const info = (await new Docker().info()) as { Runtimes?: Record<string, unknown> };
  const listed = Object.keys(info.Runtimes ?? {});
  return (wanted ?? ["runc", "runsc"]).filter((name) => listed.includes(name));
}
