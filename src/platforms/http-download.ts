import { TurnFailure } from "../core/turn-failure.js";

function megabytes(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/**
 * Downloads an attachment, streamed, refusing it as soon as it passes maxBytes (whatever the
 * platform claimed its size was). An HTML page where a file was expected means the platform
 * refused access (Slack answers a login page), which is reported as such.
 */
export async function downloadAttachment(url: string, name: string, maxBytes: number, headers: Record<string, string> = {}): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(url, { headers, redirect: "follow" });
  } catch (error) {
    throw new TurnFailure("FILE_UNAVAILABLE", `"${name}" could not be downloaded (${(error as Error).message}).`, true, { cause: error });
  }
  if (!response.ok) throw new TurnFailure("FILE_UNAVAILABLE", `"${name}" could not be downloaded (HTTP ${response.status}).`, response.status >= 500);
  if ((response.headers.get("content-type") ?? "").startsWith("text/html")) {
    await response.body?.cancel();
    throw new TurnFailure("FILE_UNAVAILABLE", `codebot isn't allowed to read "${name}": an admin should check the app's file permissions.`);
  }
  const declared = Number(response.headers.get("content-length") ?? 0);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new TurnFailure("FILE_TOO_LARGE", `"${name}" is ${megabytes(declared)}, over the ${megabytes(maxBytes)} limit for one file.`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body ?? []) {
    total += chunk.length;
    if (total > maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new TurnFailure("FILE_TOO_LARGE", `"${name}" is over the ${megabytes(maxBytes)} limit for one file.`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
