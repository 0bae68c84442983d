/// A SQL dialect, named without importing the Security module (whose `SQLDialect` has the same raw values).
public enum SQLDialectName: String, Sendable, CaseIterable {
    case sqlite
    case postgresql
}

/// One statement of ``SQLCorpus``, with what the SQL guardrail must decide about it.
public struct SQLCorpusCase: Sendable, CustomStringConvertible {
    public var sql: String
    /// The dialects the case is written for.
    public var dialects: Set<SQLDialectName>
    /// What the case tries, for a human reading a failure.
    public var note: String
    /// For refusals: the rule expected in readOnly mode (e.g. "sql.read_only"); for harmless: nil
    public var readOnlyRule: String?
    /// In write mode: "refused:<rule>" , "destructive" (allowed by the classifier but needs approval) or "allowed"
    public var writeMode: String

    public init(sql: String, dialects: Set<SQLDialectName>, note: String, readOnlyRule: String?, writeMode: String) {
        self.sql = sql
        self.dialects = dialects
        self.note = note
        self.readOnlyRule = readOnlyRule
        self.writeMode = writeMode
    }

    public var description: String { "[\(dialects.map(\.rawValue).sorted().joined(separator: ","))] \(note): \(sql)" }
}

/// Statements that try to get past the SQL guardrail, and tricky statements it must let through.
///
/// ``destructive`` cases would change the ``fixture(_:)`` database (drop, alter, delete, update,
/// insert, create a table, attach or write a file …) if they reached it, or escape the tool's
/// role, transaction or session (`SET ROLE`, `COMMIT`, `pg_terminate_backend` …; their notes
/// say "escape"). ``harmless`` cases are reads that look dangerous; every one runs on the
/// fixture in a read-only transaction.
///
/// ```swift
/// for statement in SQLCorpus.fixture(.sqlite) { try database.execute(statement) }
/// for entry in SQLCorpus.destructive where entry.dialects.contains(.sqlite) {
///     // the guard must refuse entry.sql with entry.readOnlyRule in read-only mode
/// }
/// ```
public enum SQLCorpus {
    /// Creates and fills `customers` and `orders` in the default schema (`main`, `public`).
    /// Some notes hold the words DROP TABLE, UPDATE, DELETE and `;`.
    public static func fixture(_ dialect: SQLDialectName) -> [String] {
        [
            #"CREATE TABLE customers (id integer PRIMARY KEY, name text, email text, "delete" text, "drop" integer, notes text)"#,
            "CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer REFERENCES customers(id), amount numeric, status text, created_at text)",
            #"""
            INSERT INTO customers (id, name, email, "delete", "drop", notes) VALUES
              (1, 'Ada Lovelace', 'ada@example.com', 'no', 0, 'Asked us to DROP TABLE orders; we did not'),
              (2, 'Grace Hopper', 'grace@example.com', 'no', 1, 'UPDATE: moved to Arlington; new address on file'),
              (3, 'Edsger Dijkstra', 'edsger@example.com', NULL, 0, 'DELETE FROM customers WHERE 1=1 -- the intern''s joke'),
              (4, 'Barbara Liskov', 'barbara@example.com', 'no', 2, NULL),
              (5, 'Robert''); DROP TABLE customers;--', 'bobby@example.com', 'yes', 3, 'closed account; delete me')
            """#,
            """
            INSERT INTO orders (id, customer_id, amount, status, created_at) VALUES
              (1, 1, 120.50, 'paid', '2024-01-05'),
              (2, 1, 75.00, 'shipped', '2024-02-11'),
              (3, 2, 310.25, 'paid', '2024-02-20'),
              (4, 3, 12.99, 'cancelled', '2024-03-01'),
              (5, 4, 999.00, 'pending', '2024-03-15'),
              (6, 2, 42.00, 'paid', '2024-04-02')
            """,
        ]
    }

    public static let destructive: [SQLCorpusCase] = destructiveBoth + destructiveSQLite + destructivePostgreSQL
    public static let harmless: [SQLCorpusCase] = harmlessBoth + harmlessSQLite + harmlessPostgreSQL

    // MARK: - Building cases

    private static let both: Set<SQLDialectName> = [.sqlite, .postgresql]
    private static let readOnly = "sql.read_only"
    private static let single = "sql.single_statement"
    private static let admin = "sql.admin"
    private static let sideEffect = "sql.side_effect_function"
    private static let transaction = "sql.transaction_control"

    /// A change the write tool may make once granted (readOnly refuses it).
    private static func write(_ sql: String, _ dialects: Set<SQLDialectName>, _ note: String) -> SQLCorpusCase {
        SQLCorpusCase(sql: sql, dialects: dialects, note: note, readOnlyRule: readOnly, writeMode: "allowed")
    }

    /// A change that needs a human's approval in write mode.
    private static func destroy(_ sql: String, _ dialects: Set<SQLDialectName>, _ note: String) -> SQLCorpusCase {
        SQLCorpusCase(sql: sql, dialects: dialects, note: note, readOnlyRule: readOnly, writeMode: "destructive")
    }

    /// Refused in both modes by `rule`.
    private static func refuse(_ rule: String, _ sql: String, _ dialects: Set<SQLDialectName>, _ note: String) -> SQLCorpusCase {
        SQLCorpusCase(sql: sql, dialects: dialects, note: note, readOnlyRule: rule, writeMode: "refused:\(rule)")
    }

    private static func read(_ sql: String, _ dialects: Set<SQLDialectName>, _ note: String) -> SQLCorpusCase {
        SQLCorpusCase(sql: sql, dialects: dialects, note: note, readOnlyRule: nil, writeMode: "allowed")
    }

    // MARK: - Destructive, both dialects

    private static let destructiveBoth: [SQLCorpusCase] = [
        destroy("DROP TABLE orders", both, "plain drop"),
        destroy("drop table ORDERS", both, "case games"),
        destroy("DrOp TaBlE oRdErS", both, "mixed case"),
        destroy("DROP/**/TABLE/**/orders", both, "comments instead of spaces"),
        destroy("DROP\n\tTABLE\n\torders", both, "newlines and tabs"),
        destroy("DROP TABLE IF EXISTS orders", both, "drop if exists"),
        destroy(#"DROP TABLE "orders""#, both, "quoted table name"),
        destroy("DROP TABLE orders -- just cleaning up", both, "trailing comment"),
        destroy("/* routine maintenance */ DROP TABLE orders", both, "leading comment"),
        destroy("-- SELECT 1\nDROP TABLE orders", both, "a SELECT in a comment line before the drop"),
        destroy("DELETE FROM orders", both, "delete without WHERE"),
        destroy("delete from orders", both, "lower case delete"),
        destroy("DeLeTe FrOm orders", both, "mixed case delete"),
        destroy("DELETE\nFROM\norders", both, "delete over lines"),
        destroy(#"DELETE FROM "orders""#, both, "quoted delete target"),
        destroy("DELETE FROM orders WHERE 1=1", both, "tautology 1=1"),
        destroy("DELETE FROM orders WHERE 1 = 1 -- all of them", both, "tautology with comment"),
        destroy("DELETE FROM orders WHERE true", both, "WHERE true"),
        destroy("DELETE FROM orders WHERE (1 = 1)", both, "parenthesised tautology"),
        destroy("DELETE FROM orders WHERE status = 'paid' OR 1 = 1", both, "OR tautology"),
        destroy("DELETE FROM orders WHERE 'a' = 'a'", both, "string tautology"),
        destroy("DELETE FROM orders WHERE id = id", both, "column equals itself"),
        destroy("DELETE FROM orders WHERE NOT false", both, "NOT false"),
        destroy("DELETE FROM orders WHERE 2 > 1", both, "constant comparison"),
        destroy("DELETE FROM orders WHERE status LIKE '%'", both, "LIKE '%' matches every status"),
        destroy("DELETE FROM orders RETURNING *", both, "delete everything, returning it"),
        write("DELETE FROM orders WHERE id = 1", both, "targeted delete"),
        write("DELETE FROM orders WHERE id = 1 RETURNING *", both, "targeted delete with RETURNING"),
        write(#"DELETE FROM customers WHERE "delete" = 'yes'"#, both, "column named delete in WHERE"),
        destroy("UPDATE orders SET status = 'refunded'", both, "update without WHERE"),
        destroy("update orders set amount = 0", both, "lower case update"),
        destroy("UPDATE orders SET amount = 0 WHERE 1=1", both, "update with tautology"),
        destroy("UPDATE orders SET status = 'paid' WHERE id = 1 OR 'x' = 'x'", both, "update with OR tautology"),
        destroy("UPDATE orders SET status = 'void' RETURNING id", both, "update everything, returning ids"),
        destroy(#"UPDATE customers SET "delete" = 'yes'"#, both, "column named delete, no WHERE"),
        destroy("UPDATE orders SET amount = (SELECT max(amount) FROM orders WHERE status = 'paid')", both, "WHERE only inside a subquery"),
        write("UPDATE customers SET email = NULL WHERE id = 2", both, "targeted update"),
        write(#"UPDATE customers SET "drop" = 1 WHERE "delete" = 'no'"#, both, "columns named drop and delete"),
        write("INSERT INTO orders (id, customer_id, amount, status, created_at) VALUES (100, 1, 1, 'new', '2024-05-01')", both, "insert"),
        write(#"INSERT INTO "orders" ("id", "status") VALUES (101, 'quoted')"#, both, "insert with quoted names"),
        write("INSERT INTO customers (id, name, notes) VALUES (10, 'Mallory', 'DROP TABLE orders; --')", both, "insert of a text that looks like SQL"),
        write("INSERT INTO customers (id, name) SELECT id + 100, name FROM customers", both, "insert from select"),
        write("INSERT INTO orders (id, status) VALUES (102, 'x') RETURNING id", both, "insert returning"),
        write("INSERT INTO orders (id, status) VALUES (1, 'upserted') ON CONFLICT (id) DO UPDATE SET status = excluded.status", both, "upsert, a write but not destructive"),
        write("INSERT INTO orders (id, status) VALUES (103, 'x') ON CONFLICT DO NOTHING", both, "insert or nothing"),
        write("INSERT INTO orders (id, status) SELECT 104, 'a' UNION SELECT 105, 'b'", both, "insert from a union"),
        write("CREATE TABLE evil (id integer)", both, "create a table"),
        write("create table IF NOT EXISTS audit_copy (id integer)", both, "create table if not exists"),
        write("CREATE TEMP TABLE scratch (id integer)", both, "temporary table (lives for the session)"),
        write("CREATE TEMPORARY TABLE scratch2 AS SELECT * FROM orders", both, "temporary copy of a table (lives for the session)"),
        write("CREATE TABLE orders_copy AS SELECT * FROM orders", both, "create table as select"),
        write("CREATE INDEX orders_status ON orders (status)", both, "create index"),
        write("CREATE UNIQUE INDEX IF NOT EXISTS customers_email ON customers (email)", both, "create unique index"),
        write("CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100", both, "create view"),
        write(#"CREATE VIEW "select" AS SELECT 1 AS x"#, both, "view named select"),
        destroy("ALTER TABLE orders ADD COLUMN note text", both, "add a column"),
        destroy("ALTER TABLE orders RENAME TO orders_old", both, "rename a table"),
        destroy("ALTER TABLE customers RENAME COLUMN email TO mail", both, "rename a column"),
        destroy("ALTER TABLE customers DROP COLUMN notes", both, "drop a column"),
        destroy(#"ALTER TABLE "orders" ADD "drop" integer"#, both, "add a column named drop"),
        write("WITH recent AS (SELECT id FROM orders WHERE status = 'paid') DELETE FROM orders WHERE id IN (SELECT id FROM recent)", both, "read CTE, then delete"),
        destroy("WITH x AS (SELECT 1) DELETE FROM orders", both, "CTE in front of a full delete"),
        destroy("WITH x AS (SELECT 1) UPDATE orders SET amount = amount * 2", both, "CTE in front of a full update"),
        write("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) INSERT INTO orders (id, status) SELECT i + 1000, 'spam' FROM n", both, "recursive CTE feeding an insert"),
        write("WITH t AS (SELECT 1) INSERT INTO customers (id, name) VALUES (50, 'cte')", both, "CTE then insert"),
        refuse(single, "SELECT 1; DROP TABLE orders", both, "stacked statements"),
        refuse(single, "SELECT 1;DROP TABLE orders;", both, "stacked without spaces"),
        refuse(single, "SELECT * FROM orders; DELETE FROM orders", both, "read then delete"),
        refuse(single, "DROP TABLE orders; SELECT 1", both, "drop first"),
        refuse(single, "SELECT 1 /* ; */; DELETE FROM orders", both, "semicolon in a comment, then a real one"),
        refuse(single, "SELECT ';'; DELETE FROM orders", both, "semicolon in a string, then a real one"),
        refuse(single, "SELECT 'it''s'; DROP TABLE orders", both, "doubled quote, then a statement"),
        refuse(single, "SELECT 'a\\'; DELETE FROM orders; --'", both, "backslash does not escape a quote in standard strings"),
        refuse(single, "SELECT E'\\\\' FROM (SELECT 1 AS E) AS x; DROP TABLE orders; --'", both, "E'\\\\' is a complete string"),
        refuse(single, #"SELECT "delete" FROM customers; DELETE FROM orders"#, both, "column named delete, then a delete"),
        refuse(single, "SELECT 1 -- comment\n; UPDATE orders SET amount = 0", both, "statement after a line comment"),
        refuse(single, "SELECT 1 --\n; DROP TABLE orders", both, "empty line comment"),
        refuse(single, "SELECT 1 UNION SELECT 2; DROP TABLE orders", both, "union then drop"),
        refuse(single, "VALUES (1); DROP TABLE orders", both, "values then drop"),
        refuse(single, #"SELECT 1 AS "x;y"; DROP TABLE orders"#, both, "semicolon in a quoted identifier, then a real one"),
        refuse(single, "SELECT * FROM orders WHERE status = 'DELETE FROM orders'; DELETE FROM orders", both, "the statement also appears in a string"),
        refuse(single, "SELECT * FROM orders WHERE id = 1; UPDATE orders SET amount = 0 WHERE id = 1", both, "read then targeted update"),
        refuse(single, "BEGIN; DELETE FROM orders; COMMIT", both, "own transaction around a delete"),
        refuse(single, "SELECT 1;\n\nDROP TABLE orders;\n", both, "second statement on a later line"),
        refuse(single, "INSERT INTO orders (id, status) VALUES (200, ';'); DELETE FROM orders", both, "insert with a semicolon value, then delete"),
        refuse(transaction, "COMMIT", both, "escape: ends the tool's read-only transaction"),
        refuse(transaction, "ROLLBACK", both, "escape: ends the tool's transaction"),
        refuse(transaction, "BEGIN", both, "escape: nested transaction control"),
        refuse(transaction, "SAVEPOINT before_wipe", both, "escape: savepoints belong to the tool"),
        refuse(admin, "ANALYZE", both, "maintenance: writes planner statistics"),
        refuse(admin, "VACUUM", both, "maintenance: rewrites storage"),
    ]

    // MARK: - Destructive, SQLite

    private static let sqlite: Set<SQLDialectName> = [.sqlite]

    private static let destructiveSQLite: [SQLCorpusCase] = [
        destroy("REPLACE INTO orders (id, customer_id, amount, status, created_at) VALUES (1, 1, 0, 'replaced', '2024-01-01')", sqlite, "REPLACE deletes the conflicting row"),
        destroy("INSERT OR REPLACE INTO customers (id, name) VALUES (1, 'Mallory')", sqlite, "INSERT OR REPLACE"),
        destroy("UPDATE OR REPLACE orders SET id = 2 WHERE id = 1", sqlite, "UPDATE OR REPLACE deletes the row it collides with"),
        destroy("WITH x AS (SELECT 1) REPLACE INTO orders (id, status) VALUES (1, 'cte')", sqlite, "CTE then REPLACE"),
        write("INSERT OR IGNORE INTO orders (id, status) VALUES (400, 'x')", sqlite, "INSERT OR IGNORE"),
        write("INSERT INTO orders DEFAULT VALUES", sqlite, "default values"),
        destroy("DROP TABLE [orders]", sqlite, "bracket-quoted name"),
        destroy("DROP TABLE `orders`", sqlite, "backtick-quoted name"),
        destroy("DELETE FROM main.orders", sqlite, "schema-qualified delete"),
        destroy("DELETE FROM MAIN.ORDERS", sqlite, "upper-case schema-qualified delete"),
        destroy("UPDATE [orders] SET [status] = 'x'", sqlite, "brackets everywhere"),
        destroy("DELETE FROM orders WHERE 1", sqlite, "WHERE 1"),
        destroy("DELETE FROM orders WHERE 2", sqlite, "WHERE 2"),
        destroy("DELETE FROM orders WHERE rowid = rowid", sqlite, "rowid equals itself"),
        destroy("UPDATE orders SET status = 'x' WHERE status GLOB '*'", sqlite, "GLOB '*'"),
        destroy("ALTER TABLE orders RENAME status TO state", sqlite, "rename a column without COLUMN"),
        destroy("DROP TABLE main.orders", sqlite, "drop in main"),
        write("CREATE TABLE t2 AS SELECT * FROM orders WHERE 1=0", sqlite, "create an empty copy"),
        write("CREATE VIRTUAL TABLE docs USING fts5(body)", sqlite, "virtual table"),
        write("CREATE TABLE IF NOT EXISTS [select] ([delete] text)", sqlite, "bracket names that are keywords"),
        refuse(single, "SELECT * FROM [orders]; DROP TABLE [orders]", sqlite, "stacked with brackets"),
        refuse(single, "SELECT 1 /* outer /* inner */; DROP TABLE orders; -- */", sqlite, "SQLite comments do not nest"),
        refuse(single, "SELECT E'\\' FROM (SELECT 1 AS E) AS x; DROP TABLE orders; --'", sqlite, "no E'' strings in SQLite: the backslash ends nothing"),
        refuse(single, "SELECT [x;y] FROM (SELECT 1 AS [x;y]); DELETE FROM orders", sqlite, "semicolon in brackets, then a real one"),
        refuse(single, "SELECT `a;b` FROM (SELECT 1 AS `a;b`); DELETE FROM orders", sqlite, "semicolon in backticks, then a real one"),
        refuse(single, "SELECT * FROM orders WHERE id = ?1; DELETE FROM orders", sqlite, "parameter then delete"),
        refuse(single, "SELECT 1 FROM orders; ATTACH DATABASE '/tmp/glassbox-attack.db' AS evil", sqlite, "stacked attach"),
        refuse(single, "CREATE TRIGGER wipe AFTER INSERT ON customers BEGIN DELETE FROM orders; END", sqlite, "trigger body hides a delete"),
        refuse(single, "CREATE TRIGGER audit AFTER UPDATE ON orders BEGIN UPDATE customers SET notes = 'x'; END", sqlite, "trigger body hides an update"),
        refuse(admin, "ATTACH DATABASE '/tmp/glassbox-attack.db' AS evil", sqlite, "attach creates a file"),
        refuse(admin, "ATTACH 'file:/tmp/glassbox-attack2.db?mode=rwc' AS evil", sqlite, "attach a URI"),
        refuse(admin, "attach '/tmp/glassbox-attack3.db' as evil", sqlite, "lower-case attach"),
        refuse(admin, "VACUUM INTO '/tmp/glassbox-copy.db'", sqlite, "vacuum into a file"),
        refuse(admin, "VACUUM main INTO '/tmp/glassbox-copy2.db'", sqlite, "vacuum a schema into a file"),
        refuse(admin, "PRAGMA writable_schema = ON", sqlite, "writable schema"),
        refuse(admin, "PRAGMA user_version = 42", sqlite, "changes the file header"),
        refuse(admin, "pragma USER_VERSION=3", sqlite, "case games with a pragma"),
        refuse(admin, "PRAGMA main.application_id = 7", sqlite, "schema-qualified pragma write"),
        refuse(admin, "PRAGMA journal_mode = WAL", sqlite, "changes the journal mode in the file"),
        refuse(admin, "PRAGMA foreign_keys = OFF", sqlite, "escape: turns off integrity checks"),
        refuse(single, "PRAGMA table_info(orders) ; PRAGMA user_version = 1", sqlite, "allowed pragma stacked with a write"),
        refuse(admin, "REINDEX", sqlite, "maintenance: rebuilds indexes"),
        refuse(admin, "ANALYZE orders", sqlite, "maintenance: writes sqlite_stat1"),
        refuse(admin, "CREATE VIRTUAL TABLE z USING zipfile('/tmp/glassbox.zip')", sqlite, "zipfile reads and writes an archive on the host"),
        refuse(sideEffect, "SELECT load_extension('/tmp/evil.so')", sqlite, "native code"),
        refuse(sideEffect, #"SELECT "load_extension"('/tmp/evil.so')"#, sqlite, "quoted function name"),
        refuse(sideEffect, "SELECT LOAD_EXTENSION('/tmp/evil.so', 'sqlite3_evil_init')", sqlite, "upper-case function name"),
        refuse(sideEffect, "SELECT writefile('/tmp/glassbox-escape.txt', 'owned')", sqlite, "write a file"),
        refuse(sideEffect, "SELECT readfile('/etc/passwd')", sqlite, "escape: read a host file"),
        refuse(sideEffect, "SELECT name FROM fsdir('/')", sqlite, "escape: list host directories"),
        refuse(sideEffect, "SELECT edit('text', 'vi')", sqlite, "escape: start an editor"),
        refuse(sideEffect, "SELECT fts3_tokenizer('simple', x'0000000000000000')", sqlite, "escape: replace a tokenizer pointer"),
        refuse(sideEffect, "SELECT eval('DELETE FROM orders')", sqlite, "escape: SQL in a string (eval extension)"),
        refuse(sideEffect, "SELECT sha3_query('DELETE FROM orders')", sqlite, "escape: SQL in a string, hashed"),
        refuse(sideEffect, "INSERT INTO customers (id, notes) VALUES (20, readfile('/etc/passwd'))", sqlite, "host file into a table"),
        refuse(sideEffect, "UPDATE customers SET notes = writefile('/tmp/glassbox-x', name) WHERE id = 1", sqlite, "file written by an update"),
        refuse(transaction, "BEGIN IMMEDIATE", sqlite, "escape: takes the write lock"),
        refuse(transaction, "END TRANSACTION", sqlite, "escape: END commits in SQLite"),
        refuse(transaction, "RELEASE before_wipe", sqlite, "escape: releases a savepoint"),
    ]

    // MARK: - Destructive, PostgreSQL

    private static let postgres: Set<SQLDialectName> = [.postgresql]

    private static let destructivePostgreSQL: [SQLCorpusCase] = [
        destroy("TRUNCATE orders", postgres, "truncate"),
        destroy("TRUNCATE TABLE orders, customers CASCADE", postgres, "truncate several, cascading"),
        destroy("truncate ONLY orders RESTART IDENTITY", postgres, "truncate only"),
        destroy("DELETE FROM ONLY orders", postgres, "delete from only"),
        destroy("DELETE FROM public.orders", postgres, "schema-qualified delete"),
        destroy(#"DELETE FROM "public"."orders" WHERE 1=1"#, postgres, "quoted qualified names and a tautology"),
        destroy("UPDATE ONLY orders SET amount = 0", postgres, "update only"),
        destroy("UPDATE orders o SET amount = c.id FROM customers c", postgres, "update from a join, no WHERE"),
        destroy(#"DROP TABLE U&"\006frders""#, postgres, "unicode-escaped table name"),
        destroy(#"DELETE FROM U&"!006frders" UESCAPE '!'"#, postgres, "unicode escape with UESCAPE"),
        destroy("DROP TABLE orders, customers CASCADE", postgres, "drop several"),
        destroy("DROP SCHEMA public CASCADE", postgres, "drop the schema"),
        destroy("ALTER TABLE orders ALTER COLUMN amount TYPE text", postgres, "change a column type"),
        destroy("ALTER TABLE IF EXISTS ONLY orders DROP CONSTRAINT orders_pkey", postgres, "drop the primary key"),
        destroy("ALTER TABLE customers RENAME TO \"Customers\"", postgres, "rename to a quoted name"),
        destroy("WITH gone AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM gone", postgres, "DELETE inside a CTE of a SELECT"),
        destroy("WITH a AS (SELECT 1), b AS (DELETE FROM orders WHERE true RETURNING 1) SELECT * FROM a", postgres, "second CTE deletes"),
        destroy("WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3), d AS (DELETE FROM orders RETURNING id) SELECT * FROM r", postgres, "recursive CTE plus a deleting CTE"),
        destroy("WITH x AS (SELECT 1), y AS (UPDATE customers SET notes = 'x' RETURNING 1) TABLE x", postgres, "TABLE with an updating CTE"),
        destroy("WITH d AS (DELETE FROM orders RETURNING *) INSERT INTO customers (id, name) SELECT id + 100, status FROM d", postgres, "move rows between tables"),
        destroy("with X as (delete from ORDERS returning ID) select * from X", postgres, "lower-case CTE delete"),
        write("WITH upd AS (UPDATE orders SET amount = 0 WHERE id = 1 RETURNING id) SELECT * FROM upd", postgres, "targeted update in a CTE"),
        write("WITH ins AS (INSERT INTO customers (id, name) VALUES (70, 'x') RETURNING id) SELECT * FROM ins", postgres, "insert in a CTE"),
        write("WITH m AS MATERIALIZED (UPDATE orders SET status = 'x' WHERE id = 2 RETURNING *) SELECT 1", postgres, "materialized updating CTE"),
        destroy("EXPLAIN ANALYZE DELETE FROM orders", postgres, "EXPLAIN ANALYZE executes the delete"),
        destroy("EXPLAIN ANALYZE VERBOSE DELETE FROM orders", postgres, "EXPLAIN ANALYZE VERBOSE"),
        destroy("explain analyse delete from orders", postgres, "British spelling"),
        destroy("EXPLAIN (ANALYZE) UPDATE orders SET amount = 0", postgres, "parenthesised ANALYZE"),
        destroy("EXPLAIN (ANALYZE TRUE, FORMAT JSON) DELETE FROM orders WHERE 1 = 1", postgres, "ANALYZE TRUE with a format"),
        destroy("EXPLAIN (FORMAT TEXT, ANALYZE on, BUFFERS) WITH d AS (DELETE FROM orders RETURNING 1) SELECT * FROM d", postgres, "EXPLAIN ANALYZE of a deleting CTE"),
        write("EXPLAIN (ANALYZE) INSERT INTO customers (id, name) VALUES (80, 'x')", postgres, "EXPLAIN ANALYZE of an insert"),
        write("EXPLAIN ANALYZE CREATE TABLE t3 AS SELECT * FROM orders", postgres, "EXPLAIN ANALYZE creates a table"),
        write("EXPLAIN ANALYZE SELECT * INTO t4 FROM orders", postgres, "EXPLAIN ANALYZE of SELECT INTO"),
        write("SELECT * INTO stolen FROM orders", postgres, "SELECT INTO creates a table"),
        write("SELECT * INTO TEMP stolen_temp FROM orders", postgres, "SELECT INTO TEMP"),
        write("SELECT id INTO UNLOGGED TABLE stolen2 FROM customers", postgres, "SELECT INTO UNLOGGED TABLE"),
        write("WITH c AS (SELECT * FROM customers) SELECT * INTO stolen3 FROM c", postgres, "CTE then SELECT INTO"),
        write("CREATE UNLOGGED TABLE u (id int)", postgres, "unlogged table"),
        write("CREATE MATERIALIZED VIEW mv AS SELECT * FROM orders", postgres, "materialized view"),
        write("CREATE TABLE x AS TABLE orders", postgres, "create table as TABLE"),
        write("CREATE SCHEMA evil", postgres, "schema"),
        write("CREATE SEQUENCE s", postgres, "sequence"),
        write("COMMENT ON TABLE orders IS 'owned'", postgres, "comment"),
        write("CREATE RULE wipe AS ON INSERT TO customers DO ALSO DELETE FROM orders", postgres, "a rule that deletes later"),
        write("CREATE FUNCTION wipe() RETURNS void LANGUAGE sql AS $$ DELETE FROM orders $$", postgres, "function with a delete body"),
        write("CREATE PROCEDURE wipe2() LANGUAGE sql AS $body$ DELETE FROM orders $body$", postgres, "procedure"),
        destroy("CREATE OR REPLACE VIEW big_orders AS SELECT * FROM orders", postgres, "create or replace"),
        write("MERGE INTO orders o USING (SELECT 1 AS id) s ON o.id = s.id WHEN MATCHED THEN UPDATE SET amount = 0", postgres, "merge update"),
        write("MERGE INTO customers c USING (VALUES (90, 'm')) v(id, name) ON c.id = v.id WHEN NOT MATCHED THEN INSERT (id, name) VALUES (v.id, v.name)", postgres, "merge insert"),
        destroy("MERGE INTO orders o USING customers c ON o.customer_id = c.id WHEN MATCHED THEN DELETE", postgres, "merge delete"),
        write("INSERT INTO orders (id, status) OVERRIDING USER VALUE VALUES (800, 'x')", postgres, "overriding"),
        destroy("GRANT ALL ON orders TO PUBLIC", postgres, "grant to everyone"),
        destroy("GRANT SELECT, UPDATE ON TABLE customers TO public", postgres, "grant on a table"),
        destroy("REVOKE ALL ON orders FROM CURRENT_USER", postgres, "revoke"),
        destroy("CREATE ROLE attacker SUPERUSER", postgres, "create role (cluster-wide)"),
        destroy("CREATE USER mallory WITH PASSWORD 'x'", postgres, "create user (cluster-wide)"),
        destroy("ALTER ROLE CURRENT_USER SET default_transaction_read_only = off", postgres, "escape: alter role to leave read-only (cluster-wide)"),
        destroy("ALTER USER postgres WITH PASSWORD 'owned'", postgres, "escape: take over a role (cluster-wide)"),
        destroy("DROP ROLE IF EXISTS analyst", postgres, "drop role (cluster-wide)"),
        destroy("ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO PUBLIC", postgres, "default privileges"),
        destroy("REASSIGN OWNED BY CURRENT_USER TO postgres", postgres, "reassign owned"),
        destroy("DROP OWNED BY CURRENT_USER", postgres, "drop owned"),
        refuse(single, "SELECT $$;$$; DROP TABLE orders", postgres, "semicolon in a dollar quote, then a real one"),
        refuse(single, "SELECT $tag$ $$ ; $tag$; DELETE FROM orders", postgres, "tagged dollar quote holding $$"),
        refuse(single, "SELECT $a$ ; $b$ ; $a$ ; DROP TABLE orders", postgres, "inner tag does not close the quote"),
        refuse(single, "SELECT /* /* nested */ ; */ 1; DELETE FROM orders", postgres, "nested comment, then a statement"),
        refuse(single, "SELECT U&'\\0027'; DROP TABLE orders", postgres, "unicode-escaped quote"),
        refuse(single, "TABLE orders; TRUNCATE orders", postgres, "TABLE then truncate"),
        refuse(single, "(SELECT 1); DROP TABLE orders", postgres, "parenthesised select, then drop"),
        refuse(single, "DO $$ BEGIN NULL; END $$; DROP TABLE orders", postgres, "DO block, then drop"),
        refuse(single, "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC DELETE FROM orders; SELECT 1; END", postgres, "BEGIN ATOMIC body"),
        refuse(admin, "COPY orders TO '/tmp/glassbox-orders.csv'", postgres, "write a server file"),
        refuse(admin, "COPY customers (name) FROM '/etc/hostname'", postgres, "escape: read a server file into a table"),
        refuse(admin, "COPY customers (id) FROM PROGRAM 'echo 99'", postgres, "run a program, load its output"),
        refuse(admin, "COPY (SELECT * FROM customers) TO PROGRAM 'cat > /tmp/glassbox-leak'", postgres, "query to a program"),
        refuse(admin, "COPY (DELETE FROM orders RETURNING *) TO '/tmp/glassbox-deleted.csv'", postgres, "delete inside copy"),
        refuse(admin, "copy customers from stdin", postgres, "escape: copy from the client"),
        refuse(admin, "SET ROLE postgres", postgres, "escape: change role"),
        refuse(admin, "SET SESSION AUTHORIZATION postgres", postgres, "escape: change session user"),
        refuse(admin, "SET LOCAL ROLE postgres", postgres, "escape: local role"),
        refuse(admin, "RESET ROLE", postgres, "escape: back to the login role"),
        refuse(admin, "SET default_transaction_read_only = off", postgres, "escape: read-write default"),
        refuse(admin, "SET TRANSACTION READ WRITE", postgres, "escape: read-write transaction"),
        refuse(admin, "SET search_path = evil, public", postgres, "escape: shadow tables and functions"),
        refuse(admin, "DO $$ BEGIN DELETE FROM orders; END $$", postgres, "anonymous block deletes"),
        refuse(admin, "DO $body$ BEGIN EXECUTE 'DROP TABLE ' || 'orders'; END $body$", postgres, "dynamic SQL in a DO block"),
        refuse(admin, "DO LANGUAGE plpgsql $$ BEGIN UPDATE orders SET amount = 0; END $$", postgres, "DO with a language"),
        refuse(admin, "PREPARE wipe AS DELETE FROM orders", postgres, "escape: prepares a delete for later"),
        refuse(admin, "EXECUTE wipe", postgres, "escape: runs a statement the guard cannot see"),
        refuse(admin, "PREPARE p(int) AS UPDATE orders SET amount = $1", postgres, "escape: prepares an update for later"),
        refuse(admin, "CALL wipe2()", postgres, "escape: runs a procedure the guard cannot see"),
        refuse(admin, "CREATE FUNCTION sys(cstring) RETURNS int AS '/lib/x86_64-linux-gnu/libc.so.6', 'system' LANGUAGE C STRICT", postgres, "C function: native code"),
        refuse(admin, "CREATE FUNCTION py() RETURNS void AS $$ import os $$ LANGUAGE plpython3u", postgres, "untrusted language"),
        refuse(admin, "CREATE EXTENSION dblink", postgres, "extension"),
        refuse(admin, "CREATE EXTENSION IF NOT EXISTS file_fdw", postgres, "file_fdw extension"),
        refuse(admin, "CREATE SERVER files FOREIGN DATA WRAPPER file_fdw", postgres, "foreign server"),
        refuse(admin, "CREATE FOREIGN TABLE passwd (line text) SERVER files OPTIONS (filename '/etc/passwd')", postgres, "foreign table over a host file"),
        refuse(admin, "IMPORT FOREIGN SCHEMA public FROM SERVER files INTO public", postgres, "import foreign schema"),
        refuse(admin, "CREATE PUBLICATION everything FOR ALL TABLES", postgres, "publication"),
        refuse(admin, "CREATE DATABASE evil", postgres, "another database (cluster-wide)"),
        refuse(admin, "ALTER SYSTEM SET fsync = off", postgres, "escape: server configuration"),
        refuse(admin, "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE", postgres, "escape: explicit lock"),
        refuse(admin, "VACUUM FULL orders", postgres, "maintenance: rewrites a table"),
        refuse(admin, "CLUSTER orders USING orders_pkey", postgres, "maintenance: rewrites a table"),
        refuse(admin, "REINDEX TABLE orders", postgres, "maintenance: rebuilds indexes"),
        refuse(admin, "CHECKPOINT", postgres, "escape: server checkpoint"),
        refuse(admin, "LOAD 'auto_explain'", postgres, "escape: loads a library"),
        refuse(admin, "DISCARD ALL", postgres, "escape: resets the session"),
        refuse(admin, "NOTIFY glassbox, 'DROP TABLE orders'", postgres, "escape: message other sessions"),
        refuse(sideEffect, "SELECT lo_import('/etc/hostname')", postgres, "host file into a large object"),
        refuse(sideEffect, "SELECT lo_from_bytea(0, 'payload'::bytea)", postgres, "creates a large object"),
        refuse(sideEffect, "SELECT lo_export(loid, '/tmp/glassbox-lo.txt') FROM pg_largeobject", postgres, "writes a server file"),
        refuse(sideEffect, "SELECT pg_read_file('/etc/passwd')", postgres, "escape: read a server file"),
        refuse(sideEffect, "SELECT pg_catalog.pg_read_binary_file('/etc/hostname')", postgres, "escape: schema-qualified file read"),
        refuse(sideEffect, "SELECT * FROM pg_ls_dir('.')", postgres, "escape: list the data directory"),
        refuse(sideEffect, #"SELECT "pg_ls_dir"('.')"#, postgres, "escape: quoted function name"),
        refuse(sideEffect, #"SELECT U&"pg\005fread\005ffile"('/etc/passwd')"#, postgres, "escape: unicode-escaped function name"),
        refuse(sideEffect, #"SELECT U&"!0070g_read_file" UESCAPE '!' ('/etc/passwd')"#, postgres, "escape: UESCAPE function name"),
        refuse(sideEffect, "SELECT PG_READ_FILE('postgresql.conf')", postgres, "escape: upper-case function name"),
        refuse(sideEffect, "SELECT set_config('default_transaction_read_only', 'off', false)", postgres, "escape: read-write by function"),
        refuse(sideEffect, "SELECT pg_catalog.set_config('role', 'postgres', false)", postgres, "escape: role by function"),
        refuse(sideEffect, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()", postgres, "escape: kill other sessions"),
        refuse(sideEffect, "SELECT pg_cancel_backend(pg_backend_pid())", postgres, "escape: cancel a session"),
        refuse(sideEffect, "SELECT pg_reload_conf()", postgres, "escape: reload configuration"),
        refuse(sideEffect, "SELECT pg_advisory_lock(42)", postgres, "escape: lock that outlives the call"),
        refuse(sideEffect, "SELECT pg_notify('channel', 'DROP TABLE orders')", postgres, "escape: notify"),
        refuse(sideEffect, "SELECT dblink_exec('dbname=' || current_database(), 'DROP TABLE orders')", postgres, "drop through a loopback connection"),
        refuse(sideEffect, "SELECT * FROM dblink('dbname=postgres', 'DELETE FROM orders RETURNING id') AS t(id int)", postgres, "delete through dblink"),
        refuse(sideEffect, "SELECT query_to_xml('SELECT lo_from_bytea(0, ''x''::bytea)', true, false, '')", postgres, "a side effect hidden in a string of SQL"),
        refuse(sideEffect, "SELECT txid_current()", postgres, "escape: assigns a transaction id"),
        refuse(sideEffect, "SELECT pg_switch_wal()", postgres, "escape: server WAL"),
        refuse(sideEffect, "INSERT INTO orders (id, status) VALUES (900, pg_read_file('/etc/hostname'))", postgres, "server file into a table"),
        refuse(sideEffect, "CREATE OR REPLACE FUNCTION leak() RETURNS text LANGUAGE sql AS $$ SELECT pg_read_file('/etc/passwd') $$", postgres, "side effect in a function body"),
        refuse(transaction, "START TRANSACTION READ WRITE", postgres, "escape: read-write transaction"),
        refuse(transaction, "PREPARE TRANSACTION 'glassbox'", postgres, "escape: leaves a prepared transaction"),
        refuse(transaction, "ABORT", postgres, "escape: ends the tool's transaction"),
    ]

    // MARK: - Harmless

    private static let harmlessBoth: [SQLCorpusCase] = [
        read("SELECT 'DROP TABLE orders' AS advice", both, "DROP in a string"),
        read("SELECT 'DELETE FROM customers; UPDATE orders SET amount = 0' AS text", both, "statements and ; in a string"),
        read(#"SELECT "delete", "drop" FROM customers"#, both, "columns named delete and drop"),
        read(#"SELECT id FROM customers WHERE "delete" = 'yes'"#, both, "column named delete in WHERE"),
        read(#"SELECT "drop" + 1 AS dropped FROM customers"#, both, "arithmetic on a column named drop"),
        read("SELECT id -- UPDATE orders SET amount = 0\nFROM orders", both, "UPDATE in a line comment"),
        read("/* DROP TABLE orders; */ SELECT count(*) FROM orders", both, "DROP and ; in a block comment"),
        read("SELECT ';' AS semicolon, 'it''s' AS quote", both, "; and a doubled quote in strings"),
        read("SELECT 'a;b' || ';' || 'c'", both, "concatenated semicolons"),
        read("SELECT * FROM customers WHERE notes LIKE '%DROP TABLE%'", both, "LIKE with DROP TABLE"),
        read("SELECT * FROM customers WHERE lower(notes) LIKE '%drop%'", both, "LIKE '%drop%'"),
        read("SELECT name FROM customers WHERE notes LIKE '%;%'", both, "LIKE with ;"),
        read("SELECT id FROM customers WHERE name = 'Robert''); DROP TABLE customers;--'", both, "Bobby Tables in a literal"),
        read("SELECT upper('truncate table orders')", both, "TRUNCATE in a string"),
        read("SELECT 1 AS \"select\", 2 AS \"update\"", both, "aliases that are keywords"),
        read("SELECT count(*) FROM orders AS \"delete\"", both, "table alias named delete"),
        read("SELECT id AS update_count FROM orders", both, "alias starting with update"),
        read("SELECT 1 WHERE 'DROP' <> 'drop'", both, "comparison of keyword strings"),
        read("SELECT 1;", both, "trailing semicolon"),
        read("SELECT 1; -- trailing comment", both, "trailing semicolon and comment"),
        read("SELECT 1 ; /* done */ ;", both, "trailing semicolons and a comment"),
        read("select COUNT(*) from ORDERS", both, "keywords and names in any case"),
        read(#"SELECT * FROM "orders" WHERE "status" = 'paid'"#, both, "quoted names"),
        read("WITH paid AS (SELECT * FROM orders WHERE status = 'paid') SELECT customer_id, sum(amount) FROM paid GROUP BY customer_id", both, "CTE read"),
        read("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT i FROM n", both, "recursive CTE"),
        read("WITH a AS (SELECT id FROM customers), b AS (SELECT customer_id FROM orders) SELECT count(*) FROM a JOIN b ON a.id = b.customer_id", both, "two CTEs"),
        read("WITH \"update\" AS (SELECT 1 AS x) SELECT x FROM \"update\"", both, "CTE named update"),
        read("SELECT customer_id, amount, row_number() OVER (PARTITION BY customer_id ORDER BY amount DESC) AS rank FROM orders", both, "window function"),
        read("SELECT id, sum(amount) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM orders", both, "running total"),
        read("SELECT id FROM customers UNION SELECT customer_id FROM orders", both, "UNION"),
        read("SELECT id FROM customers INTERSECT SELECT customer_id FROM orders", both, "INTERSECT"),
        read("SELECT id FROM customers EXCEPT SELECT customer_id FROM orders", both, "EXCEPT"),
        read("SELECT name FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE amount > 100)", both, "IN subquery"),
        read("SELECT c.name, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) AS n FROM customers c", both, "scalar subquery"),
        read("SELECT * FROM orders WHERE EXISTS (SELECT 1 FROM customers WHERE customers.id = orders.customer_id)", both, "EXISTS"),
        read("SELECT CASE WHEN amount > 100 THEN 'big' ELSE 'small' END AS size FROM orders", both, "CASE"),
        read("VALUES (1, 'DROP'), (2, 'DELETE')", both, "VALUES with keywords"),
        read("SELECT * FROM orders ORDER BY amount DESC LIMIT 3", both, "ORDER BY and LIMIT"),
        read("SELECT status, count(*) FROM orders GROUP BY status HAVING count(*) > 1", both, "GROUP BY and HAVING"),
        read("SELECT o.id, c.name FROM orders o LEFT JOIN customers c ON c.id = o.customer_id", both, "LEFT JOIN"),
        read("SELECT * FROM customers c CROSS JOIN (SELECT 1 AS one) x", both, "CROSS JOIN a subquery"),
        read("SELECT * FROM orders WHERE status IN ('paid', 'shipped') AND amount BETWEEN 10 AND 500", both, "IN list and BETWEEN"),
        read("SELECT coalesce(notes, 'none') FROM customers", both, "coalesce"),
        read("SELECT max(amount) FILTER (WHERE status = 'paid') FROM orders", both, "aggregate FILTER"),
        read("SELECT DISTINCT status FROM orders", both, "DISTINCT"),
        read("SELECT * FROM customers WHERE notes IS NULL", both, "IS NULL"),
        read("SELECT 'update' AS \"update\" FROM orders LIMIT 1", both, "update as string and alias"),
        read("SELECT count(*) FROM orders WHERE created_at >= '2024-02-01'", both, "date text comparison"),
        read("EXPLAIN SELECT * FROM orders", both, "EXPLAIN a select"),
    ]

    private static let harmlessSQLite: [SQLCorpusCase] = [
        read("SELECT [delete], [drop] FROM [customers]", sqlite, "bracket-quoted keywords"),
        read("SELECT `delete` FROM `customers`", sqlite, "backtick-quoted keyword"),
        read("SELECT [x;y] FROM (SELECT 1 AS [x;y])", sqlite, "semicolon in a bracket identifier"),
        read("PRAGMA table_info(orders)", sqlite, "introspection pragma"),
        read("SELECT * FROM pragma_table_info('orders')", sqlite, "pragma table-valued function"),
        read("EXPLAIN QUERY PLAN SELECT * FROM orders WHERE id = 1", sqlite, "query plan"),
        read("SELECT 1 /* outer /* inner */", sqlite, "SQLite comments do not nest"),
        read("SELECT printf('%s', 'DROP TABLE orders')", sqlite, "printf of a keyword string"),
        read(#"SELECT json_object('delete', "delete") FROM customers"#, sqlite, "json with keyword keys"),
        read("SELECT iif(amount > 100, 'big', 'small') FROM orders", sqlite, "iif"),
        read("SELECT group_concat(name, ';') FROM customers", sqlite, "group_concat with ;"),
        read("SELECT * FROM orders WHERE rowid = 1", sqlite, "rowid"),
        read("SELECT 'x' GLOB '*'", sqlite, "GLOB outside a WHERE"),
        read("SELECT sqlite_compileoption_used('THREADSAFE')", sqlite, "compile option check, allowed"),
    ]

    private static let harmlessPostgreSQL: [SQLCorpusCase] = [
        read("SELECT $$DROP TABLE orders; DELETE FROM customers$$ AS body", postgres, "statements in a dollar quote"),
        read("SELECT $tag$ $$ ; UPDATE orders $$ $tag$ AS body", postgres, "$$ inside a tagged dollar quote"),
        read("SELECT E'It\\'s; DROP TABLE orders' AS escaped", postgres, "backslash-escaped quote in E''"),
        read("SELECT E'\\'; DROP TABLE orders; --' AS escaped", postgres, "E'' hides the rest"),
        read("SELECT U&'d\\0072op table' AS u", postgres, "unicode escape in a string"),
        read(#"SELECT U&"name" FROM customers"#, postgres, "unicode identifier"),
        read("SELECT 1 /* outer /* inner */; DROP TABLE orders; -- */", postgres, "nested comment hides the drop"),
        read("TABLE orders", postgres, "TABLE"),
        read("(SELECT id FROM orders ORDER BY id LIMIT 1) UNION ALL (SELECT id FROM customers ORDER BY id LIMIT 1)", postgres, "parenthesised selects"),
        read("SELECT * FROM generate_series(1, 3) AS g(n)", postgres, "set-returning function"),
        read("SELECT array_agg(name ORDER BY name) FROM customers", postgres, "ordered aggregate"),
        read("SELECT amount::text || ' EUR' FROM orders", postgres, "casts"),
        read("SELECT extract(year FROM created_at::date) FROM orders", postgres, "FROM inside extract"),
        read("SELECT substring(notes FROM 1 FOR 10) FROM customers", postgres, "FROM and FOR inside substring"),
        read("SELECT x.* FROM orders x WHERE x.status IS DISTINCT FROM 'paid'", postgres, "IS DISTINCT FROM"),
        read(#"SELECT jsonb_build_object('drop', "drop") FROM customers"#, postgres, "json"),
        read("SELECT * FROM orders WHERE status = ANY (ARRAY['paid', 'shipped'])", postgres, "ANY array"),
        read("SELECT * FROM customers WHERE notes ~* 'drop\\s+table'", postgres, "regex on DROP TABLE"),
        read("SELECT string_agg(status, ';') FROM orders", postgres, "string_agg with ;"),
        read("SELECT lower(name) FROM ONLY customers", postgres, "FROM ONLY"),
        read("SELECT current_setting('search_path')", postgres, "reading a setting"),
        read("SELECT pg_sleep(0)", postgres, "pg_sleep is allowed"),
        read("WITH o AS MATERIALIZED (SELECT * FROM orders) SELECT count(*) FROM o", postgres, "materialized CTE"),
        read("WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SEARCH DEPTH FIRST BY n SET ord SELECT * FROM t ORDER BY ord", postgres, "SEARCH … SET is not a SET statement"),
        read("EXPLAIN (FORMAT JSON) SELECT * FROM orders", postgres, "EXPLAIN options"),
        read("EXPLAIN ANALYZE SELECT count(*) FROM orders", postgres, "EXPLAIN ANALYZE of a read"),
        read("EXPLAIN (ANALYZE false) DELETE FROM orders", postgres, "ANALYZE false runs nothing"),
        read("EXPLAIN DELETE FROM orders", postgres, "plain EXPLAIN does not run the delete"),
        read("SHOW search_path", postgres, "SHOW"),
    ]
}
