import Connectors
import Foundation
import GlassboxTesting
import Testing

/// Against the real PostgreSQL of `scripts/postgres`; each test works in its own database or schema.
@Suite(.enabled(if: TestPostgres.enabled, "set GLASSBOX_TEST_POSTGRES_URL (eval \"$(scripts/postgres)\")"))
struct PostgresConnectorTests {
    @Test func theSampleWarehouseCatalogHasSchemasKeysCommentsAndEstimates() async throws {
        try await TestPostgres.withDatabase { definition in
            let database = SQLDatabase(definition)
            let writer = try await database.writer(role: nil)
            let summary = try await SampleWarehouse.create(into: writer, options: .init(tables: 20, rowsScale: 0.5))
            await writer.close()
            #expect(summary.tables.count == 20)

            let reader = try await database.reader(role: nil)
            let tables = try await reader.listTables(schema: nil)
            #expect(Set(tables.map(\.schema)) == Set(SampleWarehouse.schemas))
            #expect(tables.filter { $0.kind == "table" }.count == 20)
            #expect(Set(tables.filter { $0.kind == "view" }.map(\.name)) == ["customer_revenue", "monthly_active_customers"])
            for table in summary.tables {
                let listed = tables.first { $0.schema == table.schema && $0.name == table.name }
                #expect(listed?.rowEstimate == Int64(table.rows), "\(table.schema).\(table.name)")
            }
            let sales = try await reader.listTables(schema: "sales")
            #expect(sales.map(\.name) == ["order_items", "orders", "products"])
            #expect(await connectorError { try await reader.listTables(schema: "nowhere") } == .unknownSchema("nowhere"))

            let items = try await reader.describeTable(schema: "sales", table: "order_items")
            #expect(items.columns.map(\.name) == ["order_id", "line_number", "product_id", "quantity", "unit_price"])
            #expect(items.columns.map(\.type) == ["bigint", "integer", "bigint", "integer", "numeric(12,2)"])
            #expect(items.primaryKey == ["order_id", "line_number"])
            #expect(Set(items.foreignKeys) == [
                ForeignKey(columns: ["order_id"], referencedSchema: "sales", referencedTable: "orders", referencedColumns: ["order_id"]),
                ForeignKey(columns: ["product_id"], referencedSchema: "sales", referencedTable: "products", referencedColumns: ["product_id"]),
            ])
            #expect(items.comment == "Lines of each order.")
            #expect(items.columns[3].comment == "Units ordered, at least 1.")
            #expect(items.rowEstimate == Int64(summary.tables.first { $0.name == "order_items" }?.rows ?? -1))

            let customers = try await reader.describeTable(schema: "crm", table: "customers")
            #expect(customers.columns.first { $0.name == "email" }?.nullable == true)
            #expect(customers.columns.first { $0.name == "created_at" }?.type == "timestamp with time zone")
            let contacts = try await reader.describeTable(schema: "crm", table: "contacts")
            #expect(contacts.foreignKeys == [ForeignKey(columns: ["customer_id"], referencedSchema: "crm",
                                                        referencedTable: "customers", referencedColumns: ["customer_id"])])
            let view = try await reader.describeTable(schema: "analytics", table: "customer_revenue")
            #expect(view.kind == "view" && view.rowEstimate == nil)
            #expect(view.comment == "Orders and revenue per customer, cancelled orders left out.")
            #expect(await connectorError { try await reader.describeTable(schema: "crm", table: "nope") } == .unknownTable(schema: "crm", table: "nope"))
            #expect(await connectorError { try await reader.describeTable(schema: nil, table: "customers") } == .unknownTable(schema: nil, table: "customers"),
                    "not on the search_path")

            let plan = try await reader.explain("SELECT * FROM sales.orders WHERE customer_id = 3")
            #expect(plan.contains("orders"), "\(plan)")

            // The same seed gives the same data as on SQLite.
            let fingerprint = try await reader.query("SELECT count(*), sum(total_amount)::text FROM sales.orders", limits: QueryLimits())
            let sqlite = try await SQLiteWarehouse.make(options: .init(tables: 20, rowsScale: 0.5))
            defer { sqlite.directory.remove() }
            let sqliteReader = try await sqlite.database.reader(role: nil)
            let sqliteFingerprint = try await sqliteReader.query("SELECT count(*), printf('%.2f', sum(total_amount)) FROM orders", limits: QueryLimits())
            #expect(fingerprint.rows == sqliteFingerprint.rows)
            await sqliteReader.close()
            await reader.close()
        }
    }

    @Test func resultsStopAtTheLimits() async throws {
        try await TestPostgres.withSchema { definition, schema, writer in
            _ = try await writer.executeBatch([
                "CREATE TABLE \(schema).numbers (n bigint PRIMARY KEY, label text)",
                "INSERT INTO \(schema).numbers SELECT n, repeat('x', 100) FROM generate_series(1, 5000) AS n",
            ], timeout: .seconds(30))
            let reader = try await SQLDatabase(definition).reader(role: nil)
            let rows = try await reader.query("SELECT * FROM \(schema).numbers ORDER BY n", limits: QueryLimits(maxRows: 25))
            #expect(rows.rows.count == 25 && rows.truncated && rows.truncatedBy == "rows")
            #expect(rows.rows.last == [.integer(25), .text(String(repeating: "x", count: 100))])
            #expect(rows.columns == [QueryColumn(name: "n", type: "bigint"), QueryColumn(name: "label", type: "text")])

            let exact = try await reader.query("SELECT n FROM \(schema).numbers WHERE n <= 10", limits: QueryLimits(maxRows: 10))
            #expect(exact.rows.count == 10 && !exact.truncated)

            let bytes = try await reader.query("SELECT label FROM \(schema).numbers", limits: QueryLimits(maxBytes: 1_050))
            #expect(bytes.rows.count == 10 && bytes.truncatedBy == "bytes" && bytes.byteCount == 1_000)

            let empty = try await reader.query("SELECT n, label, n * 2.5 AS scaled FROM \(schema).numbers WHERE false", limits: QueryLimits())
            #expect(empty.rows.isEmpty)
            #expect(empty.columns == [QueryColumn(name: "n", type: "bigint"), QueryColumn(name: "label", type: "text"),
                                      QueryColumn(name: "scaled", type: "numeric")])

            let shown = try await reader.query("SHOW transaction_read_only", limits: QueryLimits())
            #expect(shown.rows == [[.text("on")]])

            let timeout = await connectorError { try await reader.query("SELECT pg_sleep(5)", limits: QueryLimits(timeout: .milliseconds(300))) }
            #expect(timeout == .timeout(.milliseconds(300)))
            #expect(try await reader.query("SELECT 1", limits: QueryLimits()).rows == [[.integer(1)]])
            #expect(await connectorError { try await reader.query("SELECT 1; SELECT 2", limits: QueryLimits()) } == .notOneStatement(found: 2))
            await reader.close()
        }
    }

    @Test func valuesOfManyTypesArriveReadable() async throws {
        try await TestPostgres.withSchema { definition, schema, writer in
            _ = try await writer.executeBatch(["CREATE TYPE \(schema).mood AS ENUM ('happy', 'sad')"], timeout: .seconds(10))
            let reader = try await SQLDatabase(definition).reader(role: nil)
            let result = try await reader.query("""
                SELECT 1::int2, 2::int4, 3::int8, 1.5::float4, 2.25::float8, 123.4500::numeric(10,4), (-0.001)::numeric,
                       'text'::text, true, NULL::text, '2024-03-01'::date, '2024-03-01 12:34:56.5+00'::timestamptz,
                       '2024-03-01 12:34:56'::timestamp, '13:05:00'::time, interval '1 year 2 mons 3 days 04:05:06',
                       '\\x01ff'::bytea, ARRAY[1, 2, NULL]::int[], ARRAY['a b', 'c']::text[], '{"a": [1, 2]}'::jsonb,
                       'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, '192.168.0.1/24'::inet, 'happy'::\(schema).mood,
                       ARRAY['sad', 'happy']::\(schema).mood[], 12345678901234567890::numeric
                """, limits: QueryLimits())
            #expect(result.rows.first == [
                .integer(1), .integer(2), .integer(3), .real(1.5), .real(2.25), .text("123.4500"), .text("-0.001"),
                .text("text"), .bool(true), .null, .text("2024-03-01"), .text("2024-03-01 12:34:56.5+00"),
                .text("2024-03-01 12:34:56"), .text("13:05:00"), .text("1 year 2 mons 3 days 04:05:06"),
                .blob([0x01, 0xFF]), .text("{1,2,NULL}"), .text(#"{"a b",c}"#), .text(#"{"a": [1, 2]}"#),
                .text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), .text("192.168.0.1/24"), .text("happy"),
                .text("{sad,happy}"), .text("12345678901234567890"),
            ])
            #expect(result.columns.map(\.type).suffix(3) == ["\(schema).mood", "\(schema).mood[]", "numeric"])
            await reader.close()
        }
    }

    @Test func cancellingTheTaskCancelsTheStatementOnTheServer() async throws {
        guard let admin = try TestPostgres.admin() else { return }
        let database = SQLDatabase(admin)
        let reader = try await database.reader(role: nil)
        let marker = TestPostgres.uniqueName("sleep")
        let start = ContinuousClock.now
        let task = Task { try await reader.query("SELECT pg_sleep(30) AS \(marker)", limits: QueryLimits(timeout: .seconds(60))) }
        // Cancel once the statement runs on the server (a fixed pause is too short on a busy machine).
        let watcher = try await database.reader(role: nil)
        for _ in 0..<100 {
            // Reads go through a cursor, so the running statement shows as the FETCH that runs the sleep.
            let seen = try await watcher.query("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() "
                                               + "AND (query LIKE '%\(marker)%' OR (query LIKE 'FETCH%' AND wait_event = 'PgSleep'))",
                                               limits: QueryLimits())
            if seen.rows != [[.integer(0)]] { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        await watcher.close()
        task.cancel()
        let error = await connectorError { try await task.value }
        let elapsed = ContinuousClock.now - start
        #expect(error == .cancelled)
        #expect(elapsed < .seconds(10), "the 30 s sleep was cut short (\(elapsed))")
        // Nothing of it still runs on the server.
        let observer = try await database.reader(role: nil)
        let running = try await observer.query(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%\(marker)%' AND pid <> pg_backend_pid()",
            limits: QueryLimits())
        #expect(running.rows == [[.integer(0)]])
        #expect(try await reader.query("SELECT 2", limits: QueryLimits()).rows == [[.integer(2)]], "the handle stays usable")
        await observer.close()
        await reader.close()
    }

    @Test func theReadOnlyTransactionRefusesWrites() async throws {
        try await TestPostgres.withSchema { definition, schema, writer in
            _ = try await writer.executeBatch([
                "CREATE TABLE \(schema).notes (id int PRIMARY KEY, body text)", "INSERT INTO \(schema).notes VALUES (1, 'one')",
            ], timeout: .seconds(10))
            let reader = try await SQLDatabase(definition).reader(role: nil)
            for statement in ["INSERT INTO \(schema).notes VALUES (2, 'two')", "UPDATE \(schema).notes SET body = 'x'",
                              "DELETE FROM \(schema).notes", "DROP TABLE \(schema).notes", "CREATE TABLE \(schema).more (x int)",
                              "WITH gone AS (DELETE FROM \(schema).notes RETURNING *) SELECT * FROM gone"] {
                let error = await connectorError { try await reader.query(statement, limits: QueryLimits()) }
                #expect(error != nil, "\(statement)")
                if case .refusedByEngine = error {} else if case .sqlError = error {} else { Issue.record("\(statement): \(String(describing: error))") }
            }
            let insert = await connectorError { try await reader.query("INSERT INTO \(schema).notes VALUES (2, 'two')", limits: QueryLimits()) }
            #expect(insert == .refusedByEngine(message: "cannot execute INSERT in a read-only transaction", code: "SQLSTATE 25006"))
            #expect(try await reader.query("SELECT count(*) FROM \(schema).notes", limits: QueryLimits()).rows == [[.integer(1)]])
            await reader.close()
        }
    }

    @Test func setRoleLimitsWhatEachRoleMayRead() async throws {
        try await TestPostgres.withSchema { definition, schema, writer in
            let analyst = TestPostgres.uniqueName("analyst"), auditor = TestPostgres.uniqueName("auditor")
            _ = try await writer.executeBatch([
                "CREATE TABLE \(schema).orders (id int PRIMARY KEY)", "CREATE TABLE \(schema).salaries (id int PRIMARY KEY)",
                "INSERT INTO \(schema).orders VALUES (1), (2)", "INSERT INTO \(schema).salaries VALUES (1)",
                "CREATE ROLE \(analyst) NOLOGIN", "CREATE ROLE \(auditor) NOLOGIN",
                "GRANT USAGE ON SCHEMA \(schema) TO \(analyst), \(auditor)",
                "GRANT SELECT ON \(schema).orders TO \(analyst)", "GRANT SELECT ON \(schema).salaries TO \(auditor)",
                "GRANT INSERT ON \(schema).orders TO \(analyst)",
            ], timeout: .seconds(10))
            do {
                var roles = definition
                roles.roles = ["user:ann": analyst, "role:audit": auditor]
                let database = SQLDatabase(roles)
                let asAnalyst = try await database.reader(role: database.databaseRole(principal: "user:ann", roles: []))
                #expect(asAnalyst.executingAs == analyst)
                #expect(try await asAnalyst.query("SELECT count(*) FROM \(schema).orders", limits: QueryLimits()).rows == [[.integer(2)]])
                let denied = await connectorError { try await asAnalyst.query("SELECT * FROM \(schema).salaries", limits: QueryLimits()) }
                #expect(denied?.isRefusal == true && denied?.description.contains("permission denied") == true, "\(String(describing: denied))")
                // A statement that changed the role does not carry it into the next call.
                _ = try? await asAnalyst.query("SELECT set_config('role', 'none', false)", limits: QueryLimits())
                #expect(await connectorError { try await asAnalyst.query("SELECT * FROM \(schema).salaries", limits: QueryLimits()) }?.isRefusal == true)
                await asAnalyst.close()

                let asAuditor = try await database.reader(role: database.databaseRole(principal: "user:zed", roles: ["audit"]))
                #expect(try await asAuditor.query("SELECT count(*) FROM \(schema).salaries", limits: QueryLimits()).rows == [[.integer(1)]])
                #expect(await connectorError { try await asAuditor.query("SELECT * FROM \(schema).orders", limits: QueryLimits()) }?.isRefusal == true)
                await asAuditor.close()

                // A writer runs as the role too: it may insert where granted, and nowhere else.
                let writerAsAnalyst = try await database.writer(role: analyst)
                #expect(try await writerAsAnalyst.execute("INSERT INTO \(schema).orders VALUES (3)", limits: QueryLimits()).rowsAffected == 1)
                #expect(await connectorError { try await writerAsAnalyst.execute("DELETE FROM \(schema).orders", limits: QueryLimits()) }?.isRefusal == true)
                await writerAsAnalyst.close()

                let missing = await connectorError { try await database.reader(role: "no_such_role_anywhere") }
                if case .roleUnavailable(_, let role, _) = missing { #expect(role == "no_such_role_anywhere") } else {
                    Issue.record("\(String(describing: missing))")
                }
            } catch {
                Issue.record("\(error)")
            }
            _ = try await writer.executeBatch(["DROP OWNED BY \(analyst), \(auditor)", "DROP ROLE \(analyst)", "DROP ROLE \(auditor)"], timeout: .seconds(10))
        }
    }

    @Test func aWriterCommitsAndRollsBack() async throws {
        try await TestPostgres.withSchema { definition, schema, writer in
            _ = try await writer.execute("CREATE TABLE \(schema).items (id int PRIMARY KEY, name text NOT NULL)", limits: QueryLimits())
            let inserted = try await writer.execute("INSERT INTO \(schema).items VALUES (1, 'a'), (2, 'b') RETURNING id", limits: QueryLimits())
            #expect(inserted.rowsAffected == 2 && inserted.rows == [[.integer(1)], [.integer(2)]])
            #expect(try await writer.execute("UPDATE \(schema).items SET name = 'c' WHERE id = 2", limits: QueryLimits()).rowsAffected == 1)
            let failed = await connectorError { try await writer.execute("INSERT INTO \(schema).items VALUES (1, 'again')", limits: QueryLimits()) }
            #expect(failed?.description.contains("23505") == true, "\(String(describing: failed))")
            let batch = await connectorError {
                try await writer.executeBatch(["DELETE FROM \(schema).items", "INSERT INTO \(schema).items VALUES (3, NULL)"], timeout: .seconds(5))
            }
            #expect(batch != nil)
            let reader = try await SQLDatabase(definition).reader(role: nil)
            #expect(try await reader.query("SELECT id, name FROM \(schema).items ORDER BY id", limits: QueryLimits()).rows
                    == [[.integer(1), .text("a")], [.integer(2), .text("c")]])
            await reader.close()
        }
    }

    @Test func connectFailuresNameTheServerButNeverThePassword() async throws {
        guard let admin = try TestPostgres.admin() else { return }
        var wrong = admin
        wrong.password = "not-the-password-\(UInt32.random(in: 0...UInt32.max))"
        let error = await connectorError { try await SQLDatabase(wrong).reader(role: nil) }
        #expect(error?.description.contains("password authentication failed") == true, "\(String(describing: error))")
        #expect(error?.description.contains(wrong.password!) == false)
        let closed = try ConnectionDefinition(name: "nowhere", url: "postgresql://glassbox@127.0.0.1:1/db", password: "secret-xyz")
        let refused = await connectorError { try await SQLDatabase(closed).reader(role: nil) }
        #expect(refused?.description.contains("127.0.0.1:1") == true, "\(String(describing: refused))")
        #expect(refused?.description.contains("secret-xyz") == false)
    }
}
