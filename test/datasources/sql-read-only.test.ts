import { describe, expect, test } from "vitest";
import { SourceError } from "../../src/datasources/source-error.js";
import { ORDER_ROWS } from "../support/shop-data.js";
import { type Kind, useSqlSources } from "../support/sql-source-fixture.js";

/**
 * SQL sources are read-only by construction, not by trust in the role: every form of write is
 * refused for a role that OWNS the tables, statements that loosen the session never reach the next
 * call, and nothing of a call's session (a lock) outlives it. Real PostgreSQL and MariaDB.
 */

/** Writes of every form, each refused inside the read-only transaction (or as a chain, by the one-statement rule). */
const WRITES: Record<Kind, string[]> = {
  postgres: [
    "delete from orders",
    "update orders set amount = 0",
    "insert into orders (id) values (100000)",
    "create table intruder (a int)",
    "drop table salaries",
    "truncate salaries",
    "alter table orders add column intruder int",
    "select 1; delete from orders",
    "commit; delete from orders",
    "with gone as (delete from orders returning *) select count(*) from gone",
    "set transaction read write",
    "select set_config('transaction_read_only', 'off', false)",
    "do $$ begin delete from orders; end $$",
    "grant select on salaries to public",
  ],
  mysql: [
    "delete from orders",
    "update orders set amount = 0",
    "insert into orders (id) values (100000)",
    "create table intruder (a int)",
    "drop table salaries",
    "truncate table salaries",
    "alter table orders add column intruder int",
    "select 1; delete from orders",
    "commit; delete from orders",
    "set transaction read write",
    "rename table salaries to s2",
  ],
};

/** Statements that succeed, or fail, without writing: the next call must still be read-only. */
const LOOSENERS: Record<Kind, string[]> = {
  postgres: ["commit", "select set_config('default_transaction_read_only', 'off', false)", "set session characteristics as transaction read write", "rollback"],
  mysql: ["commit", "set session transaction read write", "set autocommit = 1", "rollback"],
};

describe.each(["postgres", "mysql"] as const)("%s sources", (kind) => {
  const fixture = useSqlSources(kind);
  const { query } = fixture;

  test("every form of write is refused, even for the role that owns the tables, and nothing changed", async () => {
    for (const statement of WRITES[kind]) {
      const { error } = await query(statement);
      expect(error, statement).toBeInstanceOf(SourceError);
      expect(["read-only", "query-failed"], `${statement}: ${error?.message}`).toContain(error?.code);
      if (!statement.includes(";")) expect(error?.code, `${statement}: ${error?.message}`).toBe("read-only");
    }
    for (const statement of LOOSENERS[kind]) {
      await query(statement);
      const after = await query("delete from orders");
      expect(after.error?.code, `after ${statement}`).toBe("read-only");
    }
    expect(Number((await fixture.server.rows("select count(*) as n from orders"))[0]?.n)).toBe(ORDER_ROWS);
    expect(Number((await fixture.server.rows("select count(*) as n from salaries"))[0]?.n)).toBe(1);
    const tables = await fixture.server.rows(kind === "postgres" ? "select tablename as name from pg_tables where schemaname = 'public' order by 1" : "select table_name as name from information_schema.tables where table_schema = 'shop' order by 1");
    expect(tables.map((row) => row.name ?? row.NAME ?? row.TABLE_NAME)).toEqual(["orders", "salaries"]);
    const columns = await fixture.server.rows(kind === "postgres" ? "select count(*)::int as n from information_schema.columns where table_name = 'orders'" : "select count(*) as n from information_schema.columns where table_schema = 'shop' and table_name = 'orders'");
    expect(Number(columns[0]?.n)).toBe(9);
  });

  test("session state never outlives a call: a lock taken in one is free for anyone after", async () => {
    const lock = kind === "postgres" ? "select pg_advisory_lock(4242)" : "select get_lock('codebot-test', 0)";
    expect((await query(lock)).result?.rows).toBe(1);
    const free = kind === "postgres" ? "select pg_try_advisory_lock(4242) as got" : "select get_lock('codebot-test', 0) as got";
    const got = (await fixture.server.rows(free))[0]?.got;
    expect(got === true || Number(got) === 1).toBe(true);
  });

});
