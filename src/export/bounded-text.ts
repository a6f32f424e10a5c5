/**
 * Sandbox text made fit to keep and to export: what code prints is attacker-controlled, and a
 * notebook is opened in editors, viewers and terminals (`cat x.ipynb`), so terminal control
 * sequences go, and every piece is cut to a bounded length.
 */

/** CSI sequences (colours, cursor moves) and OSC ones (titles, hyperlinks, clipboard writes). */
const ANSI_SEQUENCES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-_]/g;
/** C0/C1 controls but tab and newline. */
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
/** Halves of a UTF-16 pair with no other half: JSON readers differ on them. */
const LONE_SURROGATES = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Text with no terminal control sequences or control characters (a carriage return becomes a newline). */
export function cleanText(text: string): string {
  return text
    .replace(LONE_SURROGATES, "\ufffd")
    .replace(ANSI_SEQUENCES, "")
    .replace(/\r\n?/g, "\n")
    .replace(CONTROLS, "");
}

/**
 * At most max characters, the cut marked in the middle (the start and the end of an output are
 * what people read). Idempotent: text already within max is returned as is.
 */
export function clipMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = (cut: number) => `\n[... ${cut} characters cut ...]\n`;
  const room = Math.max(0, max - marker(text.length).length);
  const head = Math.floor(room * 0.7);
  const tail = room - head;
  const kept = `${text.slice(0, head)}${marker(text.length - room)}${tail ? text.slice(text.length - tail) : ""}`;
  return kept.length <= max ? kept : text.slice(0, max);
}

/** Clean and clipped (a cut through a character's UTF-16 pair leaves a replacement character). */
export function boundedText(text: string, max: number): string {
  const clipped = clipMiddle(cleanText(text), max);
  return clipped.replace(LONE_SURROGATES, "\ufffd");
}
