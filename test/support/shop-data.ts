import type { TestMariadb } from "./mariadb-server.js";
import type { TestPostgres } from "./postgres-server.js";

/**
 * The shop the data-source tests query, on a test server: a role that OWNS the tables (so every
 * write is refused by the read-only transaction, not by a missing privilege), a reader role
 * granted one table only (introspection must not name the other), and the passwords, which the
 * tests look for everywhere they must not be.
 */
export interface Shop {
  ownerUrl: string;
  readerUrl: string;
  wrongPasswordUrl: string;
  /** Every secret a test must never find in a sandbox, a prompt, an answer or a log. */
  secrets: string[];
}

export const OWNER_PASSWORD = "0wner-Pw-7f3a9c1e";
export const READER_PASSWORD = "r3ader-Pw-b52d0e44";

/** Rows of orders: id, region, amount (numeric, every 7th NULL), ok, at (timestamptz), day, note. */
export const ORDER_ROWS = 500;

export async function seedPostgresShop(server: TestPostgres): Promise<Shop> {
  await server.admin(`create role shop_owner login password '${OWNER_PASSWORD}'`);
  await server.admin(`create role shop_reader login password '${READER_PASSWORD}'`);
  await server.admin("create database shop owner shop_owner");
  const owner = server.url("shop_owner", OWNER_PASSWORD, "shop");
  const pg = await import("pg");
  const client = new pg.default.Client({ connectionString: owner });
  await client.connect();
  try {
    await client.query(`create table orders (id integer primary key, region text, amount numeric(10,2), ok boolean, at timestamptz, day date, note text, big bigint, ratio double precision)`);
    await client.query(
      `insert into orders select i, (array['north','south','east','west'])[1 + i % 4], case when i % 7 = 0 then null else i * 1.5 end,
        i % 2 = 0, timestamptz '2026-01-01 00:00:00+00' + i * interval '1 hour', date '2026-01-01' + i, 'note, "quoted" ' || i, i::bigint * 10000000000, i / 3.0
       from generate_series(1, ${ORDER_ROWS}) i`,
    );
    await client.query("create table salaries (name text, amount integer)");
    await client.query("insert into salaries values ('ada', 100)");
    await client.query("grant connect on database shop to shop_reader");
    await client.query("grant usage on schema public to shop_reader");
    await client.query("grant select on orders to shop_reader");
  } finally {
    await client.end();
  }
  return {
    ownerUrl: owner,
    readerUrl: server.url("shop_reader", READER_PASSWORD, "shop"),
    wrongPasswordUrl: server.url("shop_owner", "not-the-password-91", "shop"),
    secrets: [OWNER_PASSWORD, READER_PASSWORD],
  };
}

export async function seedMariadbShop(server: TestMariadb): Promise<Shop> {
  await server.admin("create database shop");
  await server.admin(`create user 'shop_owner'@'%' identified by '${OWNER_PASSWORD}'`);
  await server.admin("grant all privileges on shop.* to 'shop_owner'@'%'");
  await server.admin(`create user 'shop_reader'@'%' identified by '${READER_PASSWORD}'`);
  await server.admin("create table shop.orders (id int primary key, region varchar(20), amount decimal(10,2), ok tinyint(1), at datetime, day date, note text, big bigint unsigned, ratio double)");
  await server.admin(
    `insert into shop.orders with recursive n(i) as (select 1 union all select i + 1 from n where i < ${ORDER_ROWS})
     select i, elt(1 + i % 4, 'north', 'south', 'east', 'west'), if(i % 7 = 0, null, i * 1.5), i % 2 = 0,
       timestamp '2026-01-01 00:00:00' + interval i hour, date '2026-01-01' + interval i day, concat('note, "quoted" ', i), i * 10000000000, i / 3.0 from n`,
  );
  await server.admin("create table shop.salaries (name text, amount int)");
  await server.admin("insert into shop.salaries values ('ada', 100)");
  await server.admin("grant select on shop.orders to 'shop_reader'@'%'");
  return {
    ownerUrl: server.url("shop_owner", OWNER_PASSWORD, "shop"),
    readerUrl: server.url("shop_reader", READER_PASSWORD, "shop"),
    wrongPasswordUrl: server.url("shop_owner", "not-the-password-91", "shop"),
    secrets: [OWNER_PASSWORD, READER_PASSWORD],
  };
}
