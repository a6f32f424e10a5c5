import { csvField, NULL_FIELD } from "../csv-writer.js";

/**
 * MySQL/MariaDB column types (mysql2's field.columnType) as the session reads them, and each value
 * (as mysql2 gives it: numbers, strings for decimals, dates and big integers, Buffers for binary,
 * objects for JSON) as a CSV field of that type.
 */

const FLOAT = new Set([0, 4, 5, 246]); // DECIMAL, FLOAT, DOUBLE, NEWDECIMAL
const INT = new Set([1, 2, 3, 9, 13, 16]); // TINY, SHORT, LONG, INT24, YEAR, BIT
const LONGLONG = 8;
const DATE = new Set([10, 14]);
const TIMESTAMP = 7; // an instant, shown in the session's time zone: UTC
const DATETIME = 12;
const UNSIGNED_FLAG = 32;
const BINARY_CHARSET = 63;

export interface MysqlField {
  name: string;
  columnType?: number;
  type?: number;
  flags: number | string[];
  characterSet?: number;
}

export function columnType(field: MysqlField): string {
  const type = field.columnType ?? field.type ?? -1;
  const unsigned = typeof field.flags === "number" ? (field.flags & UNSIGNED_FLAG) !== 0 : field.flags.includes("UNSIGNED");
  if (type === LONGLONG) return unsigned ? "uint" : "int";
  if (INT.has(type)) return "int";
  if (FLOAT.has(type)) return "float";
  if (DATE.has(type)) return "date";
  if (type === TIMESTAMP) return "datetimetz";
  if (type === DATETIME) return "datetime";
  return field.characterSet === BINARY_CHARSET ? "bytes" : "text";
}

export type FieldOf = (value: unknown) => string;

function text(value: unknown): string {
  if (Buffer.isBuffer(value)) return `\\x${value.toString("hex")}`;
  if (value !== null && typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** How one column's values become CSV fields. */
export function fieldOf(type: string): FieldOf {
  if (type === "int" || type === "uint") {
    // BIT(n) comes as a Buffer: its value as an integer.
    return (value) => (value === null || value === undefined ? NULL_FIELD : Buffer.isBuffer(value) ? BigInt(`0x${value.toString("hex") || "0"}`).toString() : String(value));
  }
  if (type === "float") return (value) => (value === null || value === undefined ? NULL_FIELD : String(value));
  return (value) => (value === null || value === undefined ? NULL_FIELD : csvField(text(value)));
}
