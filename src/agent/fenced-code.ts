/** A message that is only a fenced Python block runs as written: the rule lives with the other fence rules, in core. */
export { fencedPython } from "../core/markdown/fenced-code.js";
