import { bufferSource, readWhole } from "../../src/sandbox/file-streams.js";
import type { SandboxSession } from "../../src/sandbox/sandbox-session.js";

/** The snapshot as the host streams it out, gathered here (a test's few MB) to look at and load elsewhere. */
export async function saveState(session: SandboxSession, maxBytes: number): Promise<{ outcome: Awaited<ReturnType<SandboxSession["saveState"]>>; data?: Buffer }> {
  let data: Buffer | undefined;
  const outcome = await session.saveState(maxBytes, async (snapshot) => {
    data = await readWhole(snapshot.body);
  });
  return { outcome, data };
}

/** Loads a snapshot gathered by saveState into another session. */
export const loadState = (session: SandboxSession, data: Buffer) => session.loadState(bufferSource("state", data));
