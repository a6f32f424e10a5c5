import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadConfig } from "../../../src/config.js";
import { bufferSource, readWhole } from "../../../src/sandbox/file-streams.js";
import { PodApi } from "../../../src/sandbox/kubernetes/kubernetes-api.js";
import { KubernetesProvider } from "../../../src/sandbox/kubernetes/kubernetes-provider.js";
import { createLogger } from "../../../src/log.js";
import { limitsFromConfig, maxFrameBytes } from "../../../src/sandbox/sandbox-limits.js";
import { SandboxSession } from "../../../src/sandbox/sandbox-session.js";
import { sessionNaming } from "../../../src/sandbox/session-naming.js";
import { sandboxRuntimes } from "../../support/runtimes.js";
import { KubernetesStandIn } from "../../support/stand-ins/kubernetes/kubernetes-stand-in.js";
import { STAND_IN_IMAGE } from "./kubernetes-fixture.js";

const NAMESPACE = "codebot-sandboxes";
const log = createLogger("silent");

// Files move in and out of a pod through the supervisor's "read" and "write" requests, on an
// attachment: what the sandbox's code laid out in /mnt/data (links to elsewhere, where a folder or a
// file is to go) is replaced, never followed, and everything is written as the sandbox's user.
describe.each(await sandboxRuntimes())("files through the supervisor of a pod (%s)", (runtime) => {
  const standIn = new KubernetesStandIn({ namespaces: [NAMESPACE], runtimeClasses: { gvisor: runtime === "runc" ? "runsc" : runtime } });
  const naming = sessionNaming("files");
  const limits = { ...limitsFromConfig(loadConfig({ SANDBOX_MEMORY_MB: "256" })), idleTimeoutSeconds: 300 };
  let session: SandboxSession;
  let provider: KubernetesProvider;

  beforeAll(async () => {
    await standIn.start();
    const kc = new KubeConfig();
    kc.loadFromString(standIn.kubeconfig());
    const settings = { installation: "files", image: STAND_IN_IMAGE, limits, graceSeconds: 5, ...(runtime === "runc" ? {} : { runtimeClass: "gvisor" }) };
    provider = new KubernetesProvider({ api: new PodApi(kc, NAMESPACE), settings, naming, poolSize: 0, maxFrameBytes: maxFrameBytes(limits), log });
    const sandbox = await provider.start(naming.sessionName("hostile"));
    if (sandbox === "exists") throw new Error("a pod of that session exists already");
    session = await SandboxSession.open("hostile", sandbox, limits, log);
  });
  afterAll(async () => {
    await provider?.removeAll();
    await standIn.close();
  }, 60_000);

  test("links laid where folders and files go are replaced, not followed; the files are the sandbox user's", async () => {
    const setup = await session.execute(
      ["import os", "os.makedirs('/tmp/outside', exist_ok=True)", "open('/tmp/victim', 'w').write('orig')", "os.symlink('/tmp/outside', '/mnt/data/in')", "os.symlink('/tmp/victim', '/mnt/data/f.txt')", "print('laid')"].join("\n"),
    );
    expect(setup).toMatchObject({ status: "ok", stdout: "laid\n" });
    const written = await session.putFiles([bufferSource("in/x.txt", Buffer.from("inside")), bufferSource("f.txt", Buffer.from("new"), 1_700_000_000_000)], { maxBytes: 1024 });
    expect(written).toEqual({ files: 2, bytes: 9 });
    const check = await session.execute(
      [
        "import os",
        "print(os.path.islink('/mnt/data/in'), os.path.isdir('/mnt/data/in'), os.path.exists('/tmp/outside/x.txt'))",
        "print(open('/tmp/victim').read(), os.path.islink('/mnt/data/f.txt'), open('/mnt/data/f.txt').read())",
        "print(os.stat('/mnt/data/in/x.txt').st_uid, os.stat('/mnt/data/f.txt').st_uid, int(os.stat('/mnt/data/f.txt').st_mtime))",
      ].join("\n"),
    );
    expect(check).toMatchObject({ status: "ok", stdout: "False True False\norig False new\n1000 1000 1700000000\n" });
  });

  test("a file larger than a chunk goes in and comes out whole; a link is not read through", async () => {
    const large = Buffer.alloc(2 * 1024 * 1024 + 5, 7);
    await session.putFiles([bufferSource("big.bin", large)], { maxBytes: large.length });
    const read: Buffer[] = [];
    const outcome = await session.readFiles([{ path: "big.bin", size: large.length, mtimeMs: 0 }], { maxBytes: large.length }, async (file) => void read.push(await readWhole(file.body)));
    expect(outcome.read.map((file) => file.path)).toEqual(["big.bin"]);
    expect(read[0]?.equals(large)).toBe(true);
    await session.execute("import os\nos.symlink('/etc/passwd', '/mnt/data/passwd')");
    await expect(session.download("passwd", 1024 * 1024)).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
  });

  test("a path that leaves /mnt/data is refused before anything is sent", async () => {
    await expect(session.putFiles([bufferSource("../escape.txt", Buffer.from("x"))], { maxBytes: 10 })).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
  });
});
