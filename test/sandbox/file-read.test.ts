import { describe, expect, test } from "vitest";
import { useSandboxes } from "../support/sandbox-fixture.js";

const { manager } = useSandboxes();

/** Files leave a session through its supervisor, which never follows a link and reads only regular files. */
describe("reading a session's files", () => {
  test("a file of several chunks comes back byte for byte", async () => {
    const setup = await manager.execute("read-big", "import os, hashlib\ndata = os.urandom(20 * 1024 * 1024 + 7)\nopen('/mnt/data/big.bin', 'wb').write(data)\nprint(hashlib.sha256(data).hexdigest())");
    const data = await manager.download("read-big", "/mnt/data/big.bin", 64 * 1024 * 1024);
    expect(data.length).toBe(20 * 1024 * 1024 + 7);
    const { createHash } = await import("node:crypto");
    expect(setup.stdout.trim()).toBe(createHash("sha256").update(data).digest("hex"));
    expect((await manager.download("read-big", "big.bin", 64 * 1024 * 1024)).length).toBe(data.length);
  });

  test("links out of /mnt/data, a linked folder, a FIFO and a sparse giant are refused at once", async () => {
    const setup = [
      "import os",
      "os.symlink('/etc/passwd', '/mnt/data/passwd')",
      "os.symlink('/proc/1', '/mnt/data/proc1')",
      "os.symlink('/etc', '/mnt/data/etc')",
      "os.mkfifo('/mnt/data/pipe')",
      "with open('/mnt/data/sparse.bin', 'wb') as f: f.truncate(300 * 1024 * 1024)", // sparse, within the fsize limit
    ].join("\n");
    expect((await manager.execute("read-hostile", setup)).status).toBe("ok");
    const started = Date.now();
    await expect(manager.download("read-hostile", "passwd")).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    await expect(manager.download("read-hostile", "proc1/environ")).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    await expect(manager.download("read-hostile", "etc/hostname")).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    await expect(manager.download("read-hostile", "pipe")).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    await expect(manager.download("read-hostile", "sparse.bin", 1024 * 1024)).rejects.toMatchObject({ code: "FILE_TOO_LARGE" });
    await expect(manager.download("read-hostile", "../../etc/passwd")).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    expect(Date.now() - started).toBeLessThan(5000);
    // The session is unharmed.
    expect((await manager.execute("read-hostile", "print('still fine')")).stdout).toContain("still fine");
  });
});
