const MAX_NAME_BYTES = 200;

/**
 * Makes an uploaded file's name safe to use as /mnt/data/<name>: no directories, no control or
 * invisible characters, no leading dots, at most 200 bytes (the extension kept). Non-ASCII letters stay.
 */
export function safeFilename(raw: string): string {
  const base = raw.normalize("NFC").split(/[\\/]/).pop() ?? "";
  let name = base
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, "")
    .replace(/[<>:"|?*]/g, "_")
    .trim()
    .replace(/^[.\s]+/, "");
  if (!name) return "file";
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    const dot = name.lastIndexOf(".");
    const extension = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : "";
    let stem = name.slice(0, name.length - extension.length);
    while (Buffer.byteLength(stem + extension) > MAX_NAME_BYTES) stem = Array.from(stem).slice(0, -1).join("");
    name = stem + extension;
  }
  return name;
}
