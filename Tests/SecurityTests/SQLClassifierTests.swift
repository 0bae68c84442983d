import GlassboxTesting
@testable import Security
import Testing

private let postgres = SQLClassifier(dialect: .postgresql)
private let sqlite = SQLClassifier(dialect: .sqlite)

private func tokens(_ sql: String, _ dialect: SQLDialect) throws -> [SQLToken] {
    try SQLLexer(dialect: dialect).tokens(of: sql)
}

/// The words (keywords and unquoted names) the lexer found, lower-cased.
private func words(_ sql: String, _ dialect: SQLDialect) throws -> [String] {
    try tokens(sql, dialect).filter { $0.kind == .word }.map(\.key)
}

private func violation(_ sql: String, _ dialect: SQLDialect, _ mode: SQLGuardrail.Mode = .readOnly) -> SQLGuardrailViolation? {
    if case .failure(let violation) = SQLGuardrail(dialect: dialect).check(sql, mode: mode) { return violation }
    return nil
}

private func rule(_ sql: String, _ dialect: SQLDialect, _ mode: SQLGuardrail.Mode = .readOnly) -> String? {
    violation(sql, dialect, mode)?.rule
}

/// The SQL guardrail: lexer, statements, classification, rules and the attack corpus.
@Suite struct SQLClassifierTests {}

extension SQLClassifierTests {
    @Suite struct Lexer {
        @Test func keywordsInStringsCommentsAndQuotedIdentifiersAreNotWords() throws {
            for dialect in SQLDialect.allCases {
                #expect(try words("SELECT 'DROP TABLE x'", dialect) == ["select"])
                #expect(try words(#"SELECT "delete" FROM t"#, dialect) == ["select", "from", "t"])
                #expect(try words("SELECT 1 -- UPDATE t SET a = 1", dialect) == ["select"])
                #expect(try words("SELECT /* DELETE FROM t; */ 1", dialect) == ["select"])
                #expect(try words("-- UPDATE t\nSELECT 1", dialect) == ["select"])
            }
        }

        @Test func doubledQuotesEscapeQuotes() throws {
            let string = try tokens("SELECT 'it''s; DROP'", .sqlite)[1]
            #expect(string.kind == .string)
            #expect(string.text == "it's; DROP")
            let identifier = try tokens(#"SELECT "a""b;c""#, .postgresql)[1]
            #expect(identifier.kind == .quotedIdentifier)
            #expect(identifier.text == #"a"b;c"#)
        }

        @Test func backslashOnlyEscapesInPostgresEStrings() throws {
            // E'…': the backslash escapes the quote, the string runs to the last quote.
            let escaped = try tokens("SELECT E'\\'; DROP TABLE t; --'", .postgresql)
            #expect(escaped.count == 2)
            #expect(escaped[1].text == "'; DROP TABLE t; --")
            #expect(try tokens(#"SELECT e'a\nb\x41\101\u0042'"#, .postgresql)[1].text == "a\nbAAB")
            // A standard string ends at the quote after the backslash (standard_conforming_strings).
            #expect(try tokens("SELECT 'a\\'; DROP TABLE t", .postgresql).contains { $0.isSymbol(";") })
            // SQLite has no E'' strings: E is a name, the string is '\'.
            let sqliteTokens = try tokens("SELECT E'\\'; DROP TABLE t", .sqlite)
            #expect(sqliteTokens[1].isWord("e"))
            #expect(sqliteTokens[2].text == "\\")
            // A name ending in e before a quote is not a prefix.
            #expect(try tokens("SELECT xe'\\'", .postgresql).map(\.kind) == [.word, .word, .string])
        }

        @Test func unicodeEscapesAreDecoded() throws {
            #expect(try tokens(#"SELECT U&'d\0072op'"#, .postgresql)[1].text == "drop")
            let identifier = try tokens(#"SELECT U&"\0070g_read_file"('x')"#, .postgresql)[1]
            #expect(identifier.kind == .quotedIdentifier)
            #expect(identifier.key == "pg_read_file")
            let custom = try tokens(#"SELECT u&"!0070g!!x" UESCAPE '!' ('x')"#, .postgresql)
            #expect(custom[1].text == "pg!x")
            #expect(custom[2].isSymbol("("))
            #expect(try tokens(#"SELECT U&"\+01F600""#, .postgresql)[1].text == "😀")
            #expect(try tokens(#"SELECT U&'\D83D\DE00'"#, .postgresql)[1].text == "😀")
            #expect(throws: SQLGuardrailViolation.self) { try tokens(#"SELECT U&'\00zz'"#, .postgresql) }
            #expect(throws: SQLGuardrailViolation.self) { try tokens(#"SELECT U&'x' UESCAPE 'a'"#, .postgresql) }
        }

        @Test func dollarQuotes() throws {
            #expect(try tokens("SELECT $$ ; DROP TABLE t $$", .postgresql).map(\.kind) == [.word, .string])
            let tagged = try tokens("SELECT $body$ $$ ; $other$ $body$", .postgresql)
            #expect(tagged.count == 2)
            #expect(tagged[1].text == " $$ ; $other$ ")
            // Tags are case-sensitive.
            #expect(throws: SQLGuardrailViolation.self) { try tokens("SELECT $a$ x $A$", .postgresql) }
            // `$1` is a parameter, not a dollar quote; `$` inside a name belongs to the name.
            #expect(try tokens("SELECT $1, $2 FROM t WHERE a = $1", .postgresql).filter { $0.kind == .parameter }.count == 3)
            #expect(try tokens("SELECT x$$abc$$ FROM t", .postgresql)[1].text == "x$$abc$$")
            // SQLite: `$name` is a parameter.
            #expect(try tokens("SELECT $name, :a, @b, ?1, ?", .sqlite).filter { $0.kind == .parameter }.count == 5)
        }

        @Test func commentsNestInPostgresOnly() throws {
            #expect(try words("SELECT /* a /* b */ DROP TABLE t; */ 1", .postgresql) == ["select"])
            #expect(try words("SELECT /* a /* b */ DROP TABLE t", .sqlite) == ["select", "drop", "table", "t"])
            #expect(try words("SELECT /**/1/***/", .postgresql) == ["select"])
        }

        @Test func sqliteQuotedIdentifiers() throws {
            for sql in ["SELECT [DROP TABLE;x]", "SELECT `DROP TABLE;x`", #"SELECT "DROP TABLE;x""#] {
                let found = try tokens(sql, .sqlite)
                #expect(found.count == 2)
                #expect(found[1].kind == .quotedIdentifier)
                #expect(found[1].text == "DROP TABLE;x")
            }
            #expect(try tokens("SELECT `a``b`", .sqlite)[1].text == "a`b")
            // PostgreSQL reads brackets as subscripts.
            #expect(try tokens("SELECT a[1]", .postgresql).map(\.text) == ["SELECT", "a", "[", "1", "]"])
        }

        @Test func operatorsNeverSwallowComments() throws {
            #expect(try tokens("SELECT 1 +/* x */ 2", .postgresql).map(\.text) == ["SELECT", "1", "+", "2"])
            #expect(try tokens("SELECT 1 <--x\n", .postgresql).map(\.text) == ["SELECT", "1", "<"])
            #expect(try tokens("SELECT a<>b, a::text, 1=-1", .postgresql).map(\.text)
                    == ["SELECT", "a", "<>", "b", ",", "a", "::", "text", ",", "1", "=", "-", "1"])
        }

        @Test func numbersStopBeforeLetters() throws {
            #expect(try tokens("SELECT 1from t", .postgresql).map(\.text) == ["SELECT", "1", "from", "t"])
            #expect(try tokens("SELECT 1.5e-3, .5, 0x1F, 1_000", .postgresql).filter { $0.kind == .number }.map(\.text)
                    == ["1.5e-3", ".5", "0x1F", "1_000"])
        }

        @Test func unterminatedItemsAreParseErrors() {
            let cases: [(String, SQLDialect, Int)] = [
                ("SELECT 'abc", .sqlite, 7), ("SELECT E'abc\\'", .postgresql, 7), (#"SELECT "abc"#, .postgresql, 7),
                ("SELECT [abc", .sqlite, 7), ("SELECT `abc", .sqlite, 7), ("SELECT /* abc", .sqlite, 7),
                ("SELECT /* a /* b */", .postgresql, 7), ("SELECT $$abc", .postgresql, 7), ("SELECT $x$abc$y$", .postgresql, 7),
                ("SELECT U&'abc", .postgresql, 7), ("SELECT 1\u{0}; DROP TABLE t", .postgresql, 8),
            ]
            for (sql, dialect, offset) in cases {
                let refusal = violation(sql, dialect)
                #expect(refusal?.rule == "sql.parse", "\(sql)")
                #expect(refusal?.detail == "offset=\(offset)", "\(sql)")
            }
            // Unterminated in PostgreSQL only: SQLite comments do not nest.
            #expect(rule("SELECT /* a /* b */ 1", .sqlite) == nil)
        }
    }
}

extension SQLClassifierTests {
    @Suite struct Statements {
        @Test func oneStatementWithTrailingSemicolonsAndComments() {
            for dialect in SQLDialect.allCases {
                for sql in ["SELECT 1;", "SELECT 1 ;  \n", "SELECT 1; -- done", "SELECT 1; /* done */ ;;", ";SELECT 1"] {
                    #expect(rule(sql, dialect) == nil, "\(sql)")
                }
            }
        }

        @Test func moreThanOneStatementIsRefused() {
            for dialect in SQLDialect.allCases {
                let refusal = violation("SELECT 1; SELECT 2", dialect)
                #expect(refusal?.rule == "sql.single_statement")
                #expect(refusal?.reason.contains("offset 10") == true)
                #expect(refusal?.detail == "statements=2 second_offset=10")
                #expect(rule("SELECT 1 /* ; */; DELETE FROM t", dialect) == "sql.single_statement")
                #expect(rule("SELECT ';' ; DELETE FROM t", dialect, .write) == "sql.single_statement")
            }
        }

        @Test func emptyTextIsAParseError() {
            for sql in ["", "   ", ";", " ; ; ", "-- nothing", "/* nothing */;"] {
                #expect(rule(sql, .postgresql) == "sql.parse", "\(sql)")
            }
        }

        @Test func unbalancedParenthesesAreParseErrors() {
            #expect(rule("SELECT (1", .sqlite) == "sql.parse")
            #expect(rule("SELECT 1)", .postgresql) == "sql.parse")
        }

        @Test func truncatedStatementsAreClassifiedNotACrash() {
            for sql in ["UPDATE OR", "INSERT OR", "(UPDATE OR)", "SELECT (DELETE FROM)", "WITH x AS () SELECT 1", "EXPLAIN (", "CREATE OR",
                        "DELETE FROM t WHERE", "DELETE FROM t WHERE NOT", "MERGE INTO t USING s ON 1 WHEN MATCHED THEN", "PRAGMA table_info()"] {
                for dialect in SQLDialect.allCases {
                    for mode in [SQLGuardrail.Mode.readOnly, .write] { _ = SQLGuardrail(dialect: dialect).check(sql, mode: mode) }
                }
            }
            #expect(rule("UPDATE OR", .sqlite, .write) == nil)
            #expect(rule("WITH x AS () SELECT 1", .postgresql) == "sql.parse")
        }

        @Test func deepNestingIsRefusedNotACrash() {
            let nested = "SELECT " + String(repeating: "(SELECT ", count: 500) + "1" + String(repeating: ")", count: 500)
            #expect(rule(nested, .postgresql) == "sql.parse")
            #expect(rule(String(repeating: "EXPLAIN ", count: 1_000) + "SELECT 1", .postgresql) == "sql.parse")
            // Beyond what it can follow, a WHERE counts as always true.
            let negations = "DELETE FROM t WHERE " + String(repeating: "NOT ", count: 5_001) + "true"
            #expect((try? postgres.classify(negations))?.isDestructive == true)
        }
    }
}

extension SQLClassifierTests {
    @Suite struct Classification {
        @Test func verbsAndKinds() throws {
            let expected: [(String, SQLDialect, SQLStatementKind, String)] = [
                ("select 1", .sqlite, .read, "SELECT"),
                ("VALUES (1), (2)", .sqlite, .read, "VALUES"),
                ("TABLE orders", .postgresql, .read, "TABLE"),
                ("(SELECT 1) UNION (SELECT 2)", .postgresql, .read, "SELECT"),
                ("SHOW search_path", .postgresql, .read, "SHOW"),
                ("EXPLAIN QUERY PLAN SELECT 1", .sqlite, .read, "EXPLAIN QUERY PLAN"),
                ("INSERT INTO t VALUES (1)", .sqlite, .write, "INSERT"),
                ("REPLACE INTO t VALUES (1)", .sqlite, .write, "REPLACE"),
                ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = 1", .postgresql, .write, "MERGE"),
                ("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", .sqlite, .write, "INSERT"),
                ("CREATE TEMP TABLE t (a int)", .postgresql, .ddl, "CREATE TABLE"),
                ("CREATE UNIQUE INDEX i ON t (a)", .sqlite, .ddl, "CREATE INDEX"),
                ("CREATE MATERIALIZED VIEW m AS SELECT 1", .postgresql, .ddl, "CREATE MATERIALIZED VIEW"),
                ("DROP TABLE t", .sqlite, .ddl, "DROP TABLE"),
                ("TRUNCATE t", .postgresql, .ddl, "TRUNCATE"),
                ("SELECT * INTO t2 FROM t", .postgresql, .ddl, "SELECT INTO"),
                ("GRANT SELECT ON t TO bob", .postgresql, .dcl, "GRANT"),
                ("CREATE ROLE bob", .postgresql, .dcl, "CREATE ROLE"),
                ("ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO bob", .postgresql, .dcl, "ALTER DEFAULT PRIVILEGES"),
                ("SET ROLE admin", .postgresql, .admin, "SET ROLE"),
                ("SET SESSION AUTHORIZATION admin", .postgresql, .admin, "SET SESSION AUTHORIZATION"),
                ("PRAGMA user_version = 1", .sqlite, .admin, "PRAGMA"),
                ("CREATE EXTENSION dblink", .postgresql, .admin, "CREATE EXTENSION"),
                ("ALTER SYSTEM SET fsync = off", .postgresql, .admin, "ALTER SYSTEM"),
                ("GIBBERISH x", .sqlite, .admin, "GIBBERISH"),
                ("START TRANSACTION", .postgresql, .transaction, "START TRANSACTION"),
                ("PREPARE TRANSACTION 'x'", .postgresql, .transaction, "PREPARE TRANSACTION"),
                ("ROLLBACK PREPARED 'x'", .postgresql, .transaction, "ROLLBACK PREPARED"),
                ("PREPARE p AS SELECT 1", .postgresql, .admin, "PREPARE"),
            ]
            for (sql, dialect, kind, verb) in expected {
                let classification = try SQLClassifier(dialect: dialect).classify(sql)
                #expect(classification.kind == kind, "\(sql)")
                #expect(classification.verb == verb, "\(sql)")
            }
        }

        @Test func tablesAreFoldedLikeTheEngineFoldsThem() throws {
            let pg = try postgres.classify(#"SELECT * FROM Orders o JOIN "Customers" c ON c.id = o.customer_id, Public.Items"#)
            #expect(pg.tables == [
                SQLTableReference(name: "orders", isWrite: false),
                SQLTableReference(name: "Customers", isWrite: false),
                SQLTableReference(schema: "public", name: "items", isWrite: false),
            ])
            let lite = try sqlite.classify("SELECT * FROM Main.Orders, [Line Items]")
            #expect(lite.tables == [SQLTableReference(schema: "Main", name: "Orders", isWrite: false),
                                    SQLTableReference(name: "Line Items", isWrite: false)])
        }

        @Test func tablesAcrossClausesAndSubqueries() throws {
            let classification = try postgres.classify("""
                WITH recent AS (SELECT * FROM orders WHERE created_at > '2024-01-01')
                INSERT INTO archive (id)
                SELECT r.id FROM recent r
                  JOIN customers c USING (id)
                  LEFT JOIN LATERAL (SELECT 1 FROM notes n WHERE n.id = c.id) x ON true,
                  ((items i JOIN stock s ON s.id = i.id)), generate_series(1, 3) g
                WHERE r.id IN (TABLE blocked) AND extract(year FROM r.created_at) = 2024
                """)
            #expect(classification.tables.map(\.name) == ["orders", "archive", "customers", "notes", "items", "stock", "blocked"])
            #expect(classification.tables.filter(\.isWrite).map(\.name) == ["archive"])
        }

        @Test func withQueryNamesHideTablesOnlyInTheirScope() throws {
            #expect(try postgres.classify("WITH t AS (SELECT 1) SELECT * FROM t").tables.isEmpty)
            // Non-recursive PostgreSQL: the body's own name is the table; SQLite treats it as the query.
            #expect(try postgres.classify("WITH orders AS (SELECT * FROM orders) SELECT * FROM orders").tables.map(\.name) == ["orders"])
            #expect(try sqlite.classify("WITH t AS (SELECT * FROM t) SELECT * FROM t").tables.isEmpty)
            #expect(try postgres.classify("WITH RECURSIVE t AS (SELECT 1 UNION SELECT 1 FROM t) SELECT * FROM t").tables.isEmpty)
            // A name defined in a subquery does not hide the real table outside it.
            let scoped = try postgres.classify("SELECT * FROM (WITH secret AS (SELECT 1) SELECT * FROM secret) x, secret")
            #expect(scoped.tables.map(\.name) == ["secret"])
            #expect(try postgres.classify("WITH a AS (SELECT * FROM b), b AS (SELECT * FROM a) SELECT * FROM b").tables.map(\.name) == ["b"])
        }

        @Test func writeTargets() throws {
            let cases: [(String, SQLDialect, [String])] = [
                ("UPDATE ONLY public.orders SET a = 1 FROM customers WHERE id = 1", .postgresql, ["public.orders"]),
                ("DELETE FROM orders USING customers, items WHERE orders.id = 1", .postgresql, ["orders"]),
                ("INSERT OR REPLACE INTO main.t (a) SELECT a FROM s", .sqlite, ["main.t"]),
                ("TRUNCATE TABLE ONLY a, b *", .postgresql, ["a", "b"]),
                ("DROP TABLE IF EXISTS a, b CASCADE", .postgresql, ["a", "b"]),
                ("ALTER TABLE IF EXISTS ONLY a ADD COLUMN x int", .postgresql, ["a"]),
                ("CREATE INDEX CONCURRENTLY ON ONLY a (x)", .postgresql, ["a"]),
                ("CREATE TABLE t AS SELECT * FROM s", .sqlite, ["t"]),
                ("GRANT SELECT ON TABLE a, b TO bob", .postgresql, ["a", "b"]),
                ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", .postgresql, ["t"]),
                ("SELECT * INTO TEMP TABLE t FROM s", .postgresql, ["t"]),
            ]
            for (sql, dialect, written) in cases {
                let tables = try SQLClassifier(dialect: dialect).classify(sql).tables
                #expect(tables.filter(\.isWrite).map { ($0.schema.map { "\($0)." } ?? "") + $0.name } == written, "\(sql)")
            }
            // One entry per table, written when any use writes.
            #expect(try sqlite.classify("INSERT INTO t SELECT * FROM T").tables == [SQLTableReference(name: "t", isWrite: true)])
        }

        @Test func destructiveStatements() throws {
            let cases: [(String, SQLDialect, [String])] = [
                ("DROP TABLE t", .sqlite, ["DROP TABLE"]),
                ("DROP MATERIALIZED VIEW m", .postgresql, ["DROP MATERIALIZED VIEW"]),
                ("TRUNCATE t", .postgresql, ["TRUNCATE"]),
                ("ALTER TABLE t ADD COLUMN x int", .sqlite, ["ALTER TABLE"]),
                ("GRANT ALL ON t TO PUBLIC", .postgresql, ["GRANT"]),
                ("REVOKE ALL ON t FROM bob", .postgresql, ["REVOKE"]),
                ("DROP USER bob", .postgresql, ["DROP USER"]),
                ("DELETE FROM t", .sqlite, ["DELETE without WHERE"]),
                ("UPDATE t SET a = (SELECT 1 WHERE true)", .sqlite, ["UPDATE without WHERE"]),
                ("REPLACE INTO t VALUES (1)", .sqlite, ["REPLACE INTO (deletes the rows it conflicts with)"]),
                ("CREATE OR REPLACE VIEW v AS SELECT 1", .postgresql, ["CREATE OR REPLACE VIEW (replaces the existing definition)"]),
                ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", .postgresql, ["MERGE … THEN DELETE"]),
                ("WITH d AS (DELETE FROM t RETURNING 1) SELECT * FROM d", .postgresql, ["DELETE without WHERE"]),
            ]
            for (sql, dialect, reasons) in cases {
                #expect(try SQLClassifier(dialect: dialect).classify(sql).destructiveReasons == reasons, "\(sql)")
            }
            for sql in [
                "DELETE FROM t WHERE id = 1", "INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 1",
                "UPDATE t SET a = 1 WHERE id IN (SELECT id FROM s)", "CREATE TABLE t (a int)", "DELETE FROM t WHERE a BETWEEN 1 AND 2",
                "DELETE FROM t WHERE id = 1 OR 1 = 0", "DELETE FROM t WHERE a = b", "DELETE FROM t WHERE NOT true", "UPDATE t SET a = 1 WHERE CURRENT OF c",
            ] {
                #expect(try postgres.classify(sql).isDestructive == false, "\(sql)")
            }
        }

        @Test func simpleTautologiesAreDestructive() throws {
            for condition in [
                "true", "1", "1=1", "1 = 1.0", "(1 = 1)", "'a' = 'a'", "id = id", "t.id = t.id", "NOT false", "NOT (1 = 2)",
                "2 > 1", "-1 < 0", "1 <> 2", "a = 5 OR 1 = 1", "TRUE AND 1 = 1", "name LIKE '%'", "name GLOB '*'", "1 IS NOT NULL",
                "NULL IS NULL", "x = 1 OR (y = 2 OR 'z' = 'z')", "0x10 = 16",
            ] {
                let reasons = try sqlite.classify("DELETE FROM t WHERE \(condition) RETURNING *").destructiveReasons
                #expect(reasons == ["DELETE with a WHERE that is always true"], "\(condition)")
            }
        }

        @Test func cteWithModificationIsAWrite() throws {
            let classification = try postgres.classify("WITH x AS (DELETE FROM orders WHERE id = 1 RETURNING *) SELECT * FROM x")
            #expect(classification.kind == .write)
            #expect(classification.verb == "SELECT")
            #expect(classification.writeEffects == ["DELETE in WITH"])
            #expect(classification.tables == [SQLTableReference(name: "orders", isWrite: true)])
            let nested = try postgres.classify("WITH a AS (SELECT 1), b AS (WITH c AS (UPDATE t SET x = 1 RETURNING 1) SELECT 1) SELECT 2")
            #expect(nested.kind == .write)
            #expect(nested.destructiveReasons == ["UPDATE without WHERE"])
            // SEARCH … SET is part of a recursive query, not a SET statement.
            let search = "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SEARCH DEPTH FIRST BY n SET o SELECT * FROM t"
            #expect(try postgres.classify(search).kind == .read)
        }

        @Test func explain() throws {
            let cases: [(String, SQLDialect, SQLStatementKind, String, Bool)] = [
                ("EXPLAIN SELECT 1", .postgresql, .read, "EXPLAIN", false),
                ("EXPLAIN DELETE FROM t", .postgresql, .read, "EXPLAIN", false),
                ("EXPLAIN (FORMAT JSON, ANALYZE false) DELETE FROM t", .postgresql, .read, "EXPLAIN", false),
                ("EXPLAIN (ANALYZE 'off') DELETE FROM t", .postgresql, .read, "EXPLAIN", false),
                ("EXPLAIN ANALYZE SELECT 1", .postgresql, .read, "EXPLAIN ANALYZE", false),
                ("EXPLAIN ANALYZE DELETE FROM t", .postgresql, .write, "EXPLAIN ANALYZE", true),
                ("EXPLAIN ANALYSE VERBOSE DELETE FROM t", .postgresql, .write, "EXPLAIN ANALYZE", true),
                ("EXPLAIN VERBOSE DELETE FROM t", .postgresql, .read, "EXPLAIN", false),
                ("EXPLAIN (ANALYZE) UPDATE t SET a = 1", .postgresql, .write, "EXPLAIN ANALYZE", true),
                ("EXPLAIN (ANALYZE, BUFFERS) CREATE TABLE x AS SELECT 1", .postgresql, .ddl, "EXPLAIN ANALYZE", false),
                ("EXPLAIN ANALYZE EXECUTE p", .postgresql, .admin, "EXECUTE", false),
                ("EXPLAIN QUERY PLAN DELETE FROM t", .sqlite, .read, "EXPLAIN QUERY PLAN", false),
            ]
            for (sql, dialect, kind, verb, destructive) in cases {
                let classification = try SQLClassifier(dialect: dialect).classify(sql)
                #expect(classification.kind == kind, "\(sql)")
                #expect(classification.verb == verb, "\(sql)")
                #expect(classification.isDestructive == destructive, "\(sql)")
            }
            #expect(try postgres.classify("EXPLAIN ANALYZE DELETE FROM t").writeEffects == ["EXPLAIN ANALYZE runs the DELETE it explains"])
            #expect(try postgres.classify("EXPLAIN DELETE FROM t").tables == [SQLTableReference(name: "t", isWrite: false)])
        }

        @Test func selectIntoAndLockingClauses() throws {
            let into = try postgres.classify("SELECT * INTO UNLOGGED stolen FROM orders")
            #expect(into.kind == .ddl)
            #expect(into.writeEffects == ["SELECT … INTO creates table stolen"])
            for clause in ["FOR UPDATE", "FOR NO KEY UPDATE", "FOR SHARE", "FOR KEY SHARE"] {
                let locking = try postgres.classify("SELECT * FROM orders WHERE id = 1 \(clause) NOWAIT")
                #expect(locking.kind == .write)
                #expect(locking.writeEffects == ["\(clause) locks the rows it reads"])
            }
            // FROM, FOR and INTO inside function arguments are not clauses.
            let functions = try postgres.classify("SELECT substring(name FROM 1 FOR 3), extract(year FROM d), trim(BOTH 'x' FROM s) FROM t")
            #expect(functions.kind == .read)
            #expect(functions.tables.map(\.name) == ["t"])
            #expect(try postgres.classify("SELECT * FROM t WHERE a IS DISTINCT FROM b").tables.map(\.name) == ["t"])
        }

        @Test func sideEffectFunctionsAreFoundHoweverTheyAreWritten() throws {
            let pg: [(String, String)] = [
                ("SELECT pg_read_file('x')", "pg_read_file"),
                ("SELECT PG_CATALOG.PG_READ_FILE('x')", "pg_read_file"),
                (#"SELECT "pg_catalog"."pg_ls_dir"('.')"#, "pg_ls_dir"),
                ("SELECT pg_terminate_backend /* gap */ (1)", "pg_terminate_backend"),
                (#"SELECT U&"set\005fconfig"('a', 'b', false)"#, "set_config"),
                ("SELECT * FROM dblink('x', 'y') AS t(a int)", "dblink"),
                ("SELECT pg_try_advisory_xact_lock(1)", "pg_try_advisory_xact_lock"),
                ("INSERT INTO t VALUES (nextval('s'))", "nextval"),
                ("SELECT cron.schedule('* * * * *', 'DELETE FROM t')", "cron.schedule"),
                ("CREATE FUNCTION f() RETURNS void AS $$ SELECT pg_reload_conf() $$ LANGUAGE sql", "pg_reload_conf"),
            ]
            for (sql, function) in pg {
                #expect(try postgres.classify(sql).sideEffectFunctions == [function], "\(sql)")
                #expect(rule(sql, .postgresql, .write) == "sql.side_effect_function", "\(sql)")
            }
            let lite: [(String, String)] = [
                ("SELECT load_extension('x')", "load_extension"), ("SELECT * FROM FSDIR('/')", "fsdir"),
                ("SELECT main.readfile('x')", "readfile"), ("SELECT [writefile]('x', 'y')", "writefile"),
            ]
            for (sql, function) in lite {
                #expect(try sqlite.classify(sql).sideEffectFunctions == [function], "\(sql)")
            }
            // Names in strings, as columns, defined or as tables are not calls; nor are other dialects' functions.
            for sql in [
                "SELECT 'pg_read_file(1)'", "SELECT nextval FROM t", "CREATE TABLE nextval (a int)", "DROP FUNCTION IF EXISTS pg_read_file(text)",
                "SELECT pg_sleep(0)", "SELECT currval('s')", "SELECT load_extension('x')",
            ] {
                #expect(try postgres.classify(sql).sideEffectFunctions.isEmpty, "\(sql)")
            }
            #expect(try sqlite.classify("INSERT INTO edit (a) VALUES (1)").sideEffectFunctions.isEmpty)
            #expect(try sqlite.classify("SELECT sqlite_compileoption_used('X'), pg_read_file('x')").sideEffectFunctions.isEmpty)
        }

        @Test func pragmas() throws {
            for sql in ["PRAGMA table_info(orders)", "PRAGMA main.index_list('orders')", "pragma TABLE_INFO = orders", "PRAGMA database_list"] {
                #expect(try sqlite.classify(sql).kind == .read, "\(sql)")
            }
            #expect(try sqlite.classify("PRAGMA table_info(orders)").tables == [SQLTableReference(name: "orders", isWrite: false)])
            for sql in ["PRAGMA writable_schema = 1", "PRAGMA user_version", "PRAGMA table_info(orders) x", "PRAGMA optimize"] {
                #expect(try sqlite.classify(sql).kind == .admin, "\(sql)")
            }
            #expect(try postgres.classify("PRAGMA table_info(orders)").kind == .admin)
        }

        @Test func untrustedCodeAndFileModulesAreAdministration() throws {
            #expect(try postgres.classify("CREATE FUNCTION f() RETURNS int AS 'lib', 'f' LANGUAGE C").kind == .admin)
            #expect(try postgres.classify("CREATE PROCEDURE p() LANGUAGE 'plperlu' AS $$ 1 $$").kind == .admin)
            #expect(try postgres.classify("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$").kind == .ddl)
            #expect(try sqlite.classify("CREATE VIRTUAL TABLE f USING fsdir").kind == .admin)
            #expect(try sqlite.classify("CREATE VIRTUAL TABLE f USING fts5(a)").kind == .ddl)
            #expect(try postgres.classify("CREATE TABLE t AS EXECUTE p").kind == .admin)
        }
    }
}

extension SQLClassifierTests {
    @Suite struct Guardrail {
        @Test func rulesAreTriedInOrder() {
            // Transaction control and administration win over side-effect functions, which win over read-only.
            #expect(rule("BEGIN", .sqlite, .write) == "sql.transaction_control")
            #expect(rule("COPY (SELECT pg_read_file('x')) TO STDOUT", .postgresql) == "sql.admin")
            #expect(rule("INSERT INTO t VALUES (nextval('s'))", .postgresql) == "sql.side_effect_function")
            #expect(rule("INSERT INTO t VALUES (1)", .postgresql) == "sql.read_only")
            #expect(rule("INSERT INTO t VALUES (1)", .postgresql, .write) == nil)
        }

        @Test func writeModeAllowsChangesAndReportsDestruction() throws {
            let guardrail = SQLGuardrail(dialect: .postgresql)
            for sql in ["SELECT 1", "INSERT INTO t VALUES (1)", "CREATE TABLE t (a int)", "GRANT SELECT ON t TO bob", "DROP TABLE t"] {
                #expect(throws: Never.self) { try guardrail.check(sql, mode: .write).get() }
            }
            #expect(try guardrail.check("DROP TABLE t", mode: .write).get().isDestructive)
            #expect(try guardrail.check("INSERT INTO t VALUES (1)", mode: .write).get().isDestructive == false)
        }

        @Test func violationsSayWhatWasFoundAndWhatToDo() throws {
            let readOnly = try #require(violation("WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d", .postgresql))
            #expect(readOnly.rule == "sql.read_only")
            #expect(readOnly.reason.contains("DELETE in WITH"))
            #expect(readOnly.reason.contains("sql.execute"))
            #expect(readOnly.detail == "kind=write verb=SELECT tables=orders(write) destructive=DELETE without WHERE effects=DELETE in WITH")
            #expect(readOnly.description == "sql.read_only: \(readOnly.reason)")

            let function = try #require(violation("SELECT pg_read_file('/etc/passwd')", .postgresql, .write))
            #expect(function.reason.contains("pg_read_file()"))
            #expect(function.reason.contains("reads or writes files on the database host"))
            #expect(function.detail == "kind=read verb=SELECT functions=pg_read_file")

            let pragma = try #require(violation("PRAGMA writable_schema = 1", .sqlite, .write))
            #expect(pragma.reason.contains("pragma_table_info"))
            let role = try #require(violation("SET ROLE postgres", .postgresql))
            #expect(role.reason.contains("escaping the caller's rights"))
            let unknown = try #require(violation("FROBNICATE t", .postgresql))
            #expect(unknown.reason.contains("does not recognise 'FROBNICATE'"))
            let transaction = try #require(violation("COMMIT", .sqlite, .write))
            #expect(transaction.reason.contains("Send the statement without BEGIN"))
        }
    }
}

/// Each corpus case once per dialect it is written for.
private func corpusCases(_ list: [SQLCorpusCase]) -> [(SQLCorpusCase, SQLDialect)] {
    list.flatMap { entry in
        entry.dialects.sorted { $0.rawValue < $1.rawValue }.compactMap { name in SQLDialect(rawValue: name.rawValue).map { (entry, $0) } }
    }
}

extension SQLClassifierTests {
    @Suite struct Corpus {
        @Test func corpusIsLargeEnough() {
            for dialect in SQLDialectName.allCases {
                #expect(SQLCorpus.destructive.filter { $0.dialects.contains(dialect) }.count >= 110, "\(dialect)")
                #expect(SQLCorpus.harmless.filter { $0.dialects.contains(dialect) }.count >= 35, "\(dialect)")
                #expect(SQLCorpus.fixture(dialect).count == 4)
            }
            #expect(SQLCorpus.destructive.allSatisfy { $0.readOnlyRule != nil && !$0.dialects.isEmpty })
            #expect(SQLCorpus.harmless.allSatisfy { $0.readOnlyRule == nil && $0.writeMode == "allowed" })
        }

        @Test(arguments: corpusCases(SQLCorpus.destructive))
        func destructiveCaseIsRefusedAsExpected(_ entry: SQLCorpusCase, _ dialect: SQLDialect) {
            let guardrail = SQLGuardrail(dialect: dialect)
            switch guardrail.check(entry.sql, mode: .readOnly) {
            case .success(let classification):
                Issue.record("read-only mode let through \(entry): \(SQLGuardrail.detail(classification))")
            case .failure(let violation):
                #expect(violation.rule == entry.readOnlyRule, "\(entry): \(violation.detail)")
            }
            let writeMode: String
            switch guardrail.check(entry.sql, mode: .write) {
            case .success(let classification): writeMode = classification.isDestructive ? "destructive" : "allowed"
            case .failure(let violation): writeMode = "refused:\(violation.rule)"
            }
            #expect(writeMode == entry.writeMode, "\(entry)")
        }

        @Test(arguments: corpusCases(SQLCorpus.harmless))
        func harmlessCaseIsARead(_ entry: SQLCorpusCase, _ dialect: SQLDialect) throws {
            let classification = try SQLGuardrail(dialect: dialect).check(entry.sql, mode: .readOnly).get()
            #expect(classification.kind == .read, "\(entry)")
            #expect(classification.isDestructive == false, "\(entry)")
            #expect(classification.sideEffectFunctions.isEmpty, "\(entry)")
        }
    }
}
