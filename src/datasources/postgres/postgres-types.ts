import { csvField, NULL_FIELD } from "../csv-writer.js";

/**
 * PostgreSQL's column types (by OID) as the session reads them, and each value's text (pg hands
 * every value over as PostgreSQL's own text, unparsed) as a CSV field of that type.
 */

const INT = new Set([20, 21, 23, 26]); // int8, int2, int4, oid
const FLOAT = new Set([700, 701, 1700]); // float4, float8, numeric
const TYPE_BY_OID = new Map<number, string>([
  [16, "bool"],
  [1082, "date"],
  [1114, "datetime"],
  [1184, "datetimetz"],
]);

export function columnType(oid: number): string {
  if (INT.has(oid)) return "int";
  if (FLOAT.has(oid)) return "float";
  return TYPE_BY_OID.get(oid) ?? "text";
}

const FLOAT_WORDS = new Map([
  ["NaN", "nan"],
  ["Infinity", "inf"],
  ["-Infinity", "-inf"],
]);
const isDigit = (code: number) => code >= 48 && code <= 57;

export type FieldOf = (value: string | null) => string;

/** How one column's values become CSV fields. */
export function fieldOf(type: string): FieldOf {
  switch (type) {
    case "int":
      return (value) => value ?? NULL_FIELD;
    case "float":
      // A number ends with a digit; only NaN and the infinities are words.
      return (value) => (value === null ? NULL_FIELD : isDigit(value.charCodeAt(value.length - 1)) ? value : (FLOAT_WORDS.get(value) ?? value));
    case "bool":
      return (value) => (value === null ? NULL_FIELD : value === "t" ? "True" : "False");
    case "datetimetz":
      // "2024-01-01 10:00:00+00": the session's TimeZone is UTC, so the offset is always +00; the
      // session reads the time without it, as UTC (several times faster than parsing offsets).
      return (value) => (value === null ? NULL_FIELD : csvField(value.endsWith("+00") ? value.slice(0, -3) : value));
    default:
      return (value) => (value === null ? NULL_FIELD : csvField(value));
  }
}
