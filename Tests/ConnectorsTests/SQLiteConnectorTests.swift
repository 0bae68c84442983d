import Connectors
import Foundation
import GlassboxTesting
import Testing

@Suite struct SQLiteCatalogTests {
    @Test func theSampleWarehouseIsListedWithRowEstimates() async throws {
        let warehouse = try await SQLiteWarehouse.make()
        defer { warehouse.directory.remove() }
        let reader = try await warehouse.database.reader(role: nil)
        let tables = try await reader.listTables(schema: nil)
        #expect(tables.filter { $0.kind == "table" }.count == SampleWarehouse.coreTableCount)
        #expect(Set(tables.filter { $0.kind == "view" }.map(\.name)) == ["customer_revenue", "monthly_active_customers"])
        #expect(tables.allSatisfy { $0.schema == "main" })
        for table in tables where table.kind == "table" {
            #expect(table.rowEstimate.map(Int.init) == warehouse.rows(of: table.name), "\(table.name)")
        }
        #expect(try await reader.listTables(schema: "MAIN").count == tables.count)
        #expect(await connectorError { try await reader.listTables(schema: "crm") } == .unknownSchema("crm"))
        await reader.close()
    }

    @Test func aTableIsDescribedWithTypesKeysAndComments() async throws {
        let warehouse = try await SQLiteWarehouse.make()
        defer { warehouse.directory.remove() }
        let reader = try await warehouse.database.reader(role: nil)
        let items = try await reader.describeTable(schema: nil, table: "order_items")
        #expect(items.schema == "main")
        #expect(items.kind == "table")
        #expect(items.columns.map(\.name) == ["order_id", "line_number", "product_id", "quantity", "unit_price"])
        #expect(items.columns.map(\.type) == ["INTEGER", "INTEGER", "INTEGER", "INTEGER", "NUMERIC(12,2)"])
        #expect(items.columns.allSatisfy { !$0.nullable })
        #expect(items.primaryKey == ["order_id", "line_number"])
        #expect(Set(items.foreignKeys) == [
            ForeignKey(columns: ["order_id"], referencedSchema: "main", referencedTable: "orders", referencedColumns: ["order_id"]),
            ForeignKey(columns: ["product_id"], referencedSchema: "main", referencedTable: "products", referencedColumns: ["product_id"]),
        ])
        #expect(items.comment == "Lines of each order.")
        #expect(items.columns[1].comment == "1, 2, … within the order.")
        #expect(items.rowEstimate.map(Int.init) == warehouse.rows(of: "order_items"))

        let customers = try await reader.describeTable(schema: "main", table: "CUSTOMERS")
        #expect(customers.name == "customers")
        #expect(customers.columns.first { $0.name == "email" }?.nullable == true)
        #expect(customers.columns.first { $0.name == "email" }?.comment == "Billing e-mail address; NULL when never given.")

        let view = try await reader.describeTable(schema: nil, table: "customer_revenue")
        #expect(view.kind == "view")
        #expect(view.columns.map(\.name) == ["customer_id", "name", "country", "segment", "orders", "revenue"])
        #expect(view.rowEstimate == nil)
        #expect(view.comment == "Orders and revenue per customer, cancelled orders left out.")

        #expect(await connectorError { try await reader.describeTable(schema: nil, table: "nope") } == .unknownTable(schema: nil, table: "nope"))
        await reader.close()
    }

    @Test func explainShowsThePlanWithoutRunningIt() async throws {
        let warehouse = try await SQLiteWarehouse.make()
        defer { warehouse.directory.remove() }
        let reader = try await warehouse.database.reader(role: nil)
        let plan = try await reader.explain("SELECT * FROM orders WHERE customer_id = 3")
        #expect(plan.contains("orders"))
        #expect(plan.contains("INDEX"), "\(plan)")
        #expect(await connectorError { try await reader.explain("SELECT * FROM missing") }.map { if case .sqlError = $0 { true } else { false } } == true)
        await reader.close()
    }
}

@Suite struct SQLiteQueryTests {
    @Test func resultsStopAtTheRowAndByteLimits() async throws {
        let warehouse = try await SQLiteWarehouse.make()
        defer { warehouse.directory.remove() }
        let reader = try await warehouse.database.reader(role: nil)

        let ten = try await reader.query("SELECT * FROM orders ORDER BY order_id", limits: QueryLimits(maxRows: 10))
        #expect(ten.rows.count == 10)
        #expect(ten.truncated && ten.truncatedBy == "rows")
        #expect(ten.rows.first?.first == .integer(1))
        #expect(ten.columns.first == QueryColumn(name: "order_id", type: "INTEGER"))

        let plans = try await reader.query("SELECT * FROM plans", limits: QueryLimits(maxRows: 5))
        #expect(plans.rows.count == 5)
        #expect(!plans.truncated && plans.truncatedBy == nil)

        let small = try await reader.query("SELECT * FROM customers", limits: QueryLimits(maxBytes: 1_000))
        #expect(small.truncated && small.truncatedBy == "bytes")
        #expect(small.byteCount <= 1_000 && small.byteCount > 500)
        #expect(small.byteCount == small.rows.reduce(0) { $0 + $1.reduce(0) { $0 + $1.byteCount } })

        let none = try await reader.query("SELECT customer_id, 1 + 1 AS two FROM customers WHERE 0", limits: QueryLimits())
        #expect(none.rows.isEmpty && !none.truncated)
        #expect(none.columns == [QueryColumn(name: "customer_id", type: "INTEGER"), QueryColumn(name: "two", type: "")])
        #expect(none.rowsAffected == nil)
        await reader.close()
    }

    @Test func aLongStatementTimesOutInTheEngine() async throws {
        let warehouse = try await SQLiteWarehouse.make()
        defer { warehouse.directory.remove() }
        let reader = try await warehouse.database.reader(role: nil)
        let endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
        let error = await connectorError { try await reader.query(endless, limits: QueryLimits(timeout: .milliseconds(300))) }
        #expect(error == .timeout(.milliseconds(300)))
        // The connection is usable afterwards.
        #expect(try await reader.query("SELECT count(*) FROM plans", limits: QueryLimits()).rows == [[.integer(5)]])
        await reader.close()
    }

    @Test func cancellingTheTaskInterruptsTheStatement() async throws {
        let warehouse = try await SQLiteWarehouse.make()
        defer { warehouse.directory.remove() }
        let reader = try await warehouse.database.reader(role: nil)
        let endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
        let task = Task { try await reader.query(endless, limits: QueryLimits(timeout: .seconds(60))) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        let error = await connectorError { try await task.value }
        #expect(error == .cancelled)
        #expect(try await reader.query("SELECT 1", limits: QueryLimits()).rows == [[.integer(1)]])
        await reader.close()
    }

    @Test func moreThanOneStatementIsRefused() async throws {
        let warehouse = try await SQLiteWarehouse.make()
        defer { warehouse.directory.remove() }
        let reader = try await warehouse.database.reader(role: nil)
        #expect(await connectorError { try await reader.query("SELECT 1; SELECT 2", limits: QueryLimits()) } == .notOneStatement(found: 2))
        #expect(await connectorError { try await reader.query(" -- nothing", limits: QueryLimits()) } == .notOneStatement(found: 0))
        #expect(try await reader.query("SELECT 1; -- fine", limits: QueryLimits()).rows == [[.integer(1)]])
        await reader.close()
    }

    @Test func aMissingFileIsNotCreatedByAReader() async throws {
        let directory = try TemporaryDirectory(prefix: "glassbox-connectors")
        defer { directory.remove() }
        let path = directory.path("missing.db")
        let database = SQLDatabase(try ConnectionDefinition(name: "local", url: "sqlite://" + path))
        #expect(await connectorError { try await database.reader(role: nil) } == .fileNotFound(connection: "local", path: path))
        #expect(!FileManager.default.fileExists(atPath: path))
        try Data("not a database, just text".utf8).write(to: URL(fileURLWithPath: directory.path("text.db")))
        let text = SQLDatabase(try ConnectionDefinition(name: "local", url: "sqlite://" + directory.path("text.db")))
        let error = await connectorError { try await text.reader(role: nil) }
        #expect(error?.description.contains("not a database") == true, "\(String(describing: error))")
    }
}

@Suite struct SQLiteReadOnlyTests {
    /// Each statement reaches the engine, which refuses it: the read-only connection or the authorizer.
    @Test(arguments: [
        "INSERT INTO plans (plan_code, name, monthly_price, included_seats) VALUES ('x', 'X', 1, 1)",
        "UPDATE customers SET name = 'x'",
        "DELETE FROM orders",
        "DROP TABLE customers",
        "CREATE TABLE extra (x INTEGER)",
        "CREATE TEMP TABLE scratch (x INTEGER)",
        "CREATE TEMP VIEW v AS SELECT 1",
        "ATTACH DATABASE 'ATTACHED' AS other",
        "PRAGMA writable_schema = 1",
        "PRAGMA query_only = 0",
        "SELECT load_extension('/tmp/nothing.so')",
        "VACUUM INTO 'COPY'",
        "BEGIN IMMEDIATE",
        "ANALYZE",
    ])
    func theReaderCannotWrite(_ statement: String) async throws {
        let warehouse = try await SQLiteWarehouse.make(options: .init(rowsScale: 0.1))
        defer { warehouse.directory.remove() }
        let sql = statement.replacingOccurrences(of: "ATTACHED", with: warehouse.directory.path("attached.db"))
            .replacingOccurrences(of: "COPY", with: warehouse.directory.path("copy.db"))
        let reader = try await warehouse.database.reader(role: nil)
        #expect(reader.executingAs == "sqlite:read-only")
        let error = await connectorError { try await reader.query(sql, limits: QueryLimits()) }
        #expect(error?.isRefusal == true, "\(statement): \(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: warehouse.directory.path("attached.db")))
        #expect(!FileManager.default.fileExists(atPath: warehouse.directory.path("copy.db")))
        #expect(try await reader.query("SELECT count(*) FROM plans", limits: QueryLimits()).rows == [[.integer(5)]])
        #expect(try await reader.query("PRAGMA writable_schema", limits: QueryLimits()).rows == [[.integer(0)]])
        await reader.close()
    }

    @Test func introspectionPragmasWork() async throws {
        let warehouse = try await SQLiteWarehouse.make(options: .init(rowsScale: 0.1))
        defer { warehouse.directory.remove() }
        let reader = try await warehouse.database.reader(role: nil)
        let info = try await reader.query("PRAGMA table_info(plans)", limits: QueryLimits())
        #expect(info.rows.count == 4)
        let list = try await reader.query("SELECT \"table\" FROM pragma_foreign_key_list('orders')", limits: QueryLimits())
        #expect(list.rows.isEmpty == false)
        await reader.close()
    }
}

@Suite struct SQLiteWriterTests {
    @Test func aWriterCommitsAndReportsChangedRows() async throws {
        let warehouse = try await SQLiteWarehouse.make(options: .init(rowsScale: 0.1))
        defer { warehouse.directory.remove() }
        let writer = try await warehouse.database.writer(role: nil)
        #expect(writer.executingAs == "sqlite:read-write")
        let update = try await writer.execute("UPDATE plans SET name = 'Pro Plus' WHERE plan_code = 'pro'", limits: QueryLimits())
        #expect(update.rowsAffected == 1)
        let inserted = try await writer.execute(
            "INSERT INTO plans VALUES ('team', 'Team', 49.00, 5), ('solo', 'Solo', 9.00, 1) RETURNING plan_code", limits: QueryLimits(maxRows: 1))
        #expect(inserted.rowsAffected == 2, "a cut RETURNING list still runs the whole statement")
        #expect(inserted.rows == [[.text("team")]] && inserted.truncated)
        let reader = try await warehouse.database.reader(role: nil)
        let names = try await reader.query("SELECT name FROM plans WHERE plan_code IN ('pro', 'team', 'solo') ORDER BY 1", limits: QueryLimits())
        #expect(names.rows == [[.text("Pro Plus")], [.text("Solo")], [.text("Team")]])
        await reader.close()
        await writer.close()
    }

    @Test func aFailedStatementOrBatchChangesNothing() async throws {
        let warehouse = try await SQLiteWarehouse.make(options: .init(rowsScale: 0.1))
        defer { warehouse.directory.remove() }
        let writer = try await warehouse.database.writer(role: nil)
        let duplicate = await connectorError {
            try await writer.execute("INSERT INTO plans VALUES ('pro', 'Again', 1, 1)", limits: QueryLimits())
        }
        #expect(duplicate?.description.contains("SQLITE_CONSTRAINT") == true, "\(String(describing: duplicate))")
        let orphan = await connectorError {
            try await writer.execute("INSERT INTO contacts (contact_id, customer_id, full_name, email, created_at) VALUES (999999, 999999, 'x', 'x', '2024-01-01')", limits: QueryLimits())
        }
        #expect(orphan?.description.contains("FOREIGNKEY") == true, "foreign keys are enforced: \(String(describing: orphan))")
        let batch = await connectorError {
            try await writer.executeBatch(["DELETE FROM churn_labels", "INSERT INTO plans VALUES ('pro', 'Again', 1, 1)"], timeout: .seconds(5))
        }
        #expect(batch != nil)
        let labels = try await writer.query("SELECT count(*) FROM churn_labels", limits: QueryLimits())
        #expect(labels.rows == [[.integer(Int64(warehouse.rows(of: "churn_labels") ?? -1))]])
        await writer.close()
    }

    @Test func theWritersAuthorizerStillRefusesEscapes() async throws {
        let warehouse = try await SQLiteWarehouse.make(options: .init(rowsScale: 0.1))
        defer { warehouse.directory.remove() }
        let writer = try await warehouse.database.writer(role: nil)
        let attach = warehouse.directory.path("other.db")
        for statement in ["ATTACH DATABASE '\(attach)' AS other", "PRAGMA foreign_keys = OFF", "PRAGMA writable_schema = ON",
                          "SELECT load_extension('/tmp/nothing.so')", "COMMIT", "SAVEPOINT s"] {
            let error = await connectorError { try await writer.execute(statement, limits: QueryLimits()) }
            #expect(error?.isRefusal == true, "\(statement): \(String(describing: error))")
        }
        // VACUUM cannot run in the writer's transaction; outside one the authorizer would refuse its ATTACH.
        #expect(await connectorError { try await writer.execute("VACUUM INTO '\(attach)'", limits: QueryLimits()) } != nil)
        #expect(!FileManager.default.fileExists(atPath: attach))
        // Its read path reads only.
        let error = await connectorError { try await writer.query("DELETE FROM orders", limits: QueryLimits()) }
        #expect(error?.isRefusal == true)
        await writer.close()
    }

    @Test func waitingForAnotherWritersLockEndsWithTheTimeout() async throws {
        let warehouse = try await SQLiteWarehouse.make(options: .init(rowsScale: 0.1))
        defer { warehouse.directory.remove() }
        let holder = try await warehouse.database.writer(role: nil)
        let waiter = try await warehouse.database.writer(role: nil)
        // The holder keeps the write lock while its endless subquery runs, until its own timeout.
        let holding = Task {
            try await holder.execute("""
                UPDATE plans SET included_seats = (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c)
                """, limits: QueryLimits(timeout: .seconds(4)))
        }
        // Until the holder has the lock, the waiter's update simply succeeds.
        var outcome: ConnectorError?
        for _ in 0..<40 where outcome == nil {
            do {
                _ = try await waiter.execute("UPDATE plans SET name = 'x'", limits: QueryLimits(timeout: .milliseconds(300)))
                try await Task.sleep(for: .milliseconds(100))
            } catch let error as ConnectorError {
                outcome = error
            }
        }
        #expect(outcome == .timeout(.milliseconds(300)))
        holding.cancel()
        #expect(await connectorError { try await holding.value } == .cancelled)
        #expect(try await waiter.execute("UPDATE plans SET name = 'y' WHERE plan_code = 'pro'", limits: QueryLimits()).rowsAffected == 1)
        await holder.close()
        await waiter.close()
    }

    @Test func aClosedHandleSaysSo() async throws {
        let warehouse = try await SQLiteWarehouse.make(options: .init(rowsScale: 0.1))
        defer { warehouse.directory.remove() }
        let reader = try await warehouse.database.reader(role: nil)
        await reader.close()
        #expect(await connectorError { try await reader.query("SELECT 1", limits: QueryLimits()) } == .closed(connection: "local"))
    }
}

@Suite struct SampleWarehouseTests {
    @Test func theSameSeedGivesTheSameRows() async throws {
        let first = try await SQLiteWarehouse.make(options: .init(seed: 7, rowsScale: 0.3))
        let second = try await SQLiteWarehouse.make(options: .init(seed: 7, rowsScale: 0.3))
        let other = try await SQLiteWarehouse.make(options: .init(seed: 8, rowsScale: 0.3))
        defer { [first, second, other].forEach { $0.directory.remove() } }
        let fingerprint = "SELECT count(*), sum(total_amount), sum(customer_id * order_id) FROM orders"
        func value(_ warehouse: SQLiteWarehouse) async throws -> [[SQLValue]] {
            let reader = try await warehouse.database.reader(role: nil)
            defer { Task { await reader.close() } }
            return try await reader.query(fingerprint, limits: QueryLimits()).rows
        }
        #expect(try await value(first) == value(second))
        #expect(try await value(first) != value(other))
        #expect(first.summary == second.summary)
    }

    @Test func theDataIsSkewedAndHasNulls() async throws {
        let warehouse = try await SQLiteWarehouse.make(options: .init(rowsScale: 1))
        defer { warehouse.directory.remove() }
        let reader = try await warehouse.database.reader(role: nil)
        let top = try await reader.query("""
            SELECT max(n), avg(n) FROM (SELECT count(*) AS n FROM orders GROUP BY customer_id)
            """, limits: QueryLimits())
        guard case .integer(let most) = top.rows[0][0], case .real(let average) = top.rows[0][1] else {
            Issue.record("unexpected \(top.rows)")
            return
        }
        #expect(Double(most) > 5 * average, "a few customers place many orders")
        let nulls = try await reader.query("SELECT count(*) FROM customers WHERE email IS NULL", limits: QueryLimits())
        #expect(nulls.rows[0][0] != .integer(0))
        let countries = try await reader.query("SELECT count(DISTINCT country) FROM customers", limits: QueryLimits())
        guard case .integer(let countryCount) = countries.rows[0][0] else { return }
        #expect(countryCount >= 10)
        let views = try await reader.query("SELECT count(*) FROM customer_revenue WHERE revenue > 0", limits: QueryLimits())
        #expect(views.rows[0][0] != .integer(0))
        await reader.close()
    }

    @Test func fillerTablesMakeUpTheRequestedCount() async throws {
        let warehouse = try await SQLiteWarehouse.make(options: .init(tables: 75, rowsScale: 0.1))
        defer { warehouse.directory.remove() }
        #expect(warehouse.summary.tables.count == 75)
        #expect(warehouse.summary.fillerTables == 75 - SampleWarehouse.coreTableCount)
        let reader = try await warehouse.database.reader(role: nil)
        let tables = try await reader.listTables(schema: nil)
        #expect(tables.filter { $0.kind == "table" }.count == 75)
        #expect(tables.contains { $0.name == "daily_metrics_63" })
        await reader.close()
    }

    @Test func tooFewTablesOrAnUsedFileAreRefused() async throws {
        let warehouse = try await SQLiteWarehouse.make(options: .init(rowsScale: 0.1))
        defer { warehouse.directory.remove() }
        let writer = try await warehouse.database.writer(role: nil)
        do {
            _ = try await SampleWarehouse.create(into: writer, options: .init(tables: 3))
            Issue.record("3 tables must be refused")
        } catch let error as SampleWarehouseError {
            #expect(error.description.contains("at least \(SampleWarehouse.coreTableCount)"))
        }
        do {
            _ = try await SampleWarehouse.create(into: writer)
            Issue.record("a non-empty file must be refused")
        } catch let error as SampleWarehouseError {
            #expect(error.description.contains("--replace"))
        }
        let replaced = try await SampleWarehouse.create(into: writer, options: .init(seed: 9, rowsScale: 0.1, replace: true))
        #expect(replaced.seed == 9)
        await writer.close()
    }
}
