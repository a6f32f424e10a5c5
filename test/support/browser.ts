import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it). */
export const CHROMIUM = "/usr/bin/chromium";

/** A real headless Chromium, driven over the DevTools protocol. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-dev-shm-usage"] });
}

/** Where tests put what a person would look at (screenshots): outside the repository, kept after the run. */
export async function testOutputPath(name: string): Promise<string> {
  const dir = join(tmpdir(), "codebot-test-output");
  await mkdir(dir, { recursive: true });
  return join(dir, name);
}
