import Connectors
import EventLog
import Foundation
import GlassboxTesting
import Testing
@testable import Tools

extension SQLToolsTests {
    @Suite struct ValuesAndIdentifiers {
        @Test func valuesBecomeJSON() {
            #expect(JSONValue(SQLValue.null) == .null)
            #expect(JSONValue(SQLValue.integer(-7)) == .integer(-7))
            #expect(JSONValue(SQLValue.real(1.5)) == .number(1.5))
            #expect(JSONValue(SQLValue.real(.nan)) == "NaN")
            #expect(JSONValue(SQLValue.real(-.infinity)) == "-Infinity")
            #expect(JSONValue(SQLValue.text("é")) == "é")
            #expect(JSONValue(SQLValue.blob([0, 1, 2, 254, 255])) == "AAEC/v8=")
            #expect(JSONValue(SQLValue.bool(true)) == true)
        }

        @Test func resultsKeepColumnsRowsAndTruncation() {
            let result = QueryResult(columns: [QueryColumn(name: "id", type: "INTEGER"), QueryColumn(name: "b", type: "BLOB")],
                                     rows: [[.integer(1), .blob([1])], [.integer(2), .null]], truncated: true, truncatedBy: "rows")
            #expect(result.json == [
                "columns": [["name": "id", "type": "INTEGER"], ["name": "b", "type": "BLOB"]],
                "rows": [[1, "AQ=="], [2, nil]],
                "row_count": 2, "truncated": true, "truncated_by": "rows",
            ])
        }

        @Test func identifiersAreQuotedAndEscaped() throws {
            #expect(try SQLIdentifier.quote("orders", for: .sqlite) == "\"orders\"")
            #expect(try SQLIdentifier.quote("a\"b", for: .postgresql) == "\"a\"\"b\"")
            #expect(try SQLIdentifier.qualified(schema: "Sales", table: "Order Lines", for: .postgresql) == "\"Sales\".\"Order Lines\"")
            #expect(throws: ToolError.self) { try SQLIdentifier.quote("", for: .sqlite) }
            #expect(throws: ToolError.self) { try SQLIdentifier.quote("a\u{0}", for: .sqlite) }
        }
    }
}

// MARK: - Test databases

/// A database named `warehouse` for data tool tests: a SQLite file in a temporary folder, or a
/// database of its own on the PostgreSQL server of `scripts/postgres`, dropped by ``remove()``.
struct TestWarehouse {
    let database: SQLDatabase
    let directory: TemporaryDirectory
    /// The PostgreSQL database to drop, and the server's definition.
    private let postgres: (name: String, admin: ConnectionDefinition)?

    var engine: SQLEngine { database.definition.engine }
    var defaultSchema: String { engine == .sqlite ? "main" : "public" }
    /// The SQLite file, for byte-level checks.
    var sqlitePath: String { directory.path("warehouse.db") }

    /// The engines tests run on: SQLite always, PostgreSQL when configured (or required).
    static let engines: [SQLEngine] = PostgresTestServer.enabled ? [.sqlite, .postgresql] : [.sqlite]

    /// A fresh database on `engine` holding what `statements` create; nil (after recording an issue)
    /// when PostgreSQL is required but not configured.
    static func make(_ engine: SQLEngine, _ statements: [String] = [],
                     sourceLocation: SourceLocation = #_sourceLocation) async throws -> TestWarehouse? {
        let directory = try TemporaryDirectory(prefix: "glassbox-data")
        let warehouse: TestWarehouse
        switch engine {
        case .sqlite:
            let definition = try ConnectionDefinition(name: "warehouse", url: "sqlite://" + directory.path("warehouse.db"))
            warehouse = TestWarehouse(database: SQLDatabase(definition), directory: directory, postgres: nil)
        case .postgresql:
            guard let admin = PostgresTestServer.admin(sourceLocation: sourceLocation) else {
                directory.remove()
                return nil
            }
            let name = "glassbox_tools_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            let writer = try await SQLDatabase(admin).writer(role: nil)
            do {
                _ = try await writer.execute("CREATE DATABASE \(name)", limits: QueryLimits())
            } catch {
                await writer.close()
                throw error
            }
            await writer.close()
            let definition = try ConnectionDefinition(name: "warehouse", url: PostgresTestServer.url(database: name), password: admin.password)
            warehouse = TestWarehouse(database: SQLDatabase(definition), directory: directory, postgres: (name, admin))
        }
        if !statements.isEmpty { try await warehouse.run(statements) }
        return warehouse
    }

    /// Runs statements in one transaction on a writer of its own, outside any guard (test set-up).
    func run(_ statements: [String]) async throws {
        let writer = try await database.writer(role: nil)
        do {
            _ = try await writer.executeBatch(statements, timeout: .seconds(30))
        } catch {
            await writer.close()
            throw error
        }
        await writer.close()
    }

    /// Reads rows outside any guard (test checks).
    func rows(_ sql: String) async throws -> [[SQLValue]] {
        let reader = try await database.reader(role: nil)
        do {
            let rows = try await reader.query(sql, limits: QueryLimits(maxRows: 100_000, maxBytes: 1 << 26)).rows
            await reader.close()
            return rows
        } catch {
            await reader.close()
            throw error
        }
    }

    func environment(workspace: Workspace? = nil, context: [String: String] = [:]) -> ToolEnvironment {
        ToolEnvironment(databases: ["warehouse": database], workspace: workspace, context: context)
    }

    /// `warehouse.<default schema>.<table>`.
    func resource(_ table: String) -> String { "warehouse.\(defaultSchema).\(table)" }

    func remove() async {
        if let postgres {
            if let writer = try? await SQLDatabase(postgres.admin).writer(role: nil) {
                _ = try? await writer.execute("DROP DATABASE IF EXISTS \(postgres.name) WITH (FORCE)", limits: QueryLimits())
                await writer.close()
            }
        }
        directory.remove()
    }
}

/// The PostgreSQL server of `scripts/postgres`: GLASSBOX_TEST_POSTGRES_URL and PGPASSWORD. Without the
/// URL its tests are left out, unless GLASSBOX_REQUIRE_POSTGRES=1, when they fail.
enum PostgresTestServer {
    static let environment = ProcessInfo.processInfo.environment
    static let url = environment["GLASSBOX_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let enabled = url != nil || environment["GLASSBOX_REQUIRE_POSTGRES"] == "1"

    static func admin(sourceLocation: SourceLocation = #_sourceLocation) -> ConnectionDefinition? {
        guard let url else {
            Issue.record("GLASSBOX_REQUIRE_POSTGRES=1 but GLASSBOX_TEST_POSTGRES_URL is not set; run `eval \"$(scripts/postgres)\"` first",
                         sourceLocation: sourceLocation)
            return nil
        }
        do {
            return try ConnectionDefinition(name: "postgres-admin", url: url, password: environment["PGPASSWORD"])
        } catch {
            Issue.record("GLASSBOX_TEST_POSTGRES_URL cannot be used: \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// The server's URL with another database in its path.
    static func url(database: String) -> String {
        let base = url ?? ""
        guard let schemeEnd = base.range(of: "://") else { return base }
        let rest = base[schemeEnd.upperBound...]
        let pathStart = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let query = rest.firstIndex(of: "?").map { String(rest[$0...]) } ?? ""
        return String(base[..<pathStart]) + "/" + database + query
    }
}

/// Orders and customers, with comments, a foreign key, NULLs and repeated values.
enum ShopFixture {
    static func statements(_ engine: SQLEngine) -> [String] {
        var statements: [String]
        switch engine {
        case .sqlite:
            statements = [
                """
                CREATE TABLE customers ( -- People who buy
                  id integer PRIMARY KEY,
                  name text NOT NULL, -- Full name
                  email text,
                  country text
                )
                """,
                """
                CREATE TABLE orders (
                  id integer PRIMARY KEY,
                  customer_id integer NOT NULL REFERENCES customers(id), -- Who ordered
                  amount real,
                  status text,
                  note text
                )
                """,
            ]
        case .postgresql:
            statements = [
                "CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, email text, country text)",
                "COMMENT ON TABLE customers IS 'People who buy'",
                "COMMENT ON COLUMN customers.name IS 'Full name'",
                """
                CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers(id),
                  amount double precision, status text, note text)
                """,
                "COMMENT ON COLUMN orders.customer_id IS 'Who ordered'",
            ]
        }
        statements += [
            """
            INSERT INTO customers (id, name, email, country) VALUES
              (1, 'Ada', 'ada@example.com', 'UK'), (2, 'Grace', NULL, 'US'), (3, 'Edsger', 'ed@example.com', 'NL')
            """,
            """
            INSERT INTO orders (id, customer_id, amount, status, note) VALUES
              (1, 1, 10.5, 'paid', NULL), (2, 1, 20, 'paid', 'gift'), (3, 2, 5.25, 'open', NULL),
              (4, 3, 100, 'paid', NULL), (5, 2, 7, 'cancelled', 'late')
            """,
        ]
        return statements
    }
}

/// A policy over `warehouse` with one principal per kind of caller.
func dataPolicy(extra: String = "") -> String {
    """
    version: 1
    roles:
      admin:
        grants:
          - {id: admin-all, action: "*", resource: "*"}
          - {id: admin-destructive, action: sql:destructive, resource: "warehouse.*"}
      writer:
        grants:
          - {id: writer-sql, action: [sql:read, sql:write, sql:ddl, catalog:read], resource: "warehouse.*"}
      reader:
        grants:
          - {id: reader-sql, action: [sql:read, catalog:read], resource: "warehouse.*"}
      customers-only:
        grants:
          - {id: customers-read, action: sql:read, resource: ["warehouse.main.customers", "warehouse.public.customers"]}
    principals:
      user:dana: {roles: [admin]}
      user:wes: {roles: [writer]}
      user:rita: {roles: [reader]}
      user:carl: {roles: [customers-only]}
      user:olga: {roles: [admin]}
    tools:
      sql.query: {rate_limit: {capacity: 100000, per: 1m}}
      sql.execute: {rate_limit: {capacity: 100000, per: 1m}}
    \(extra)
    """
}

// MARK: - sql.query and sql.execute through the guard

@Suite struct SQLToolsTests {
    @Test(arguments: TestWarehouse.engines)
    func queryReturnsColumnsAndRows(engine: SQLEngine) async throws {
        guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)) else { return }
        let h = try await makeHarness(policy: dataPolicy(), environment: warehouse.environment())
        defer { h.remove() }

        let result = await h.call("sql.query", ["sql": "SELECT id, status, note FROM orders ORDER BY id"], as: "user:rita")
        #expect(result.status == .completed, "\(result.message ?? "")")
        #expect(result.output?["columns"]?.array?.compactMap { $0["name"]?.string } == ["id", "status", "note"])
        #expect(result.output?["rows"]?.array?.first == [1, "paid", nil])
        #expect(result.output?["row_count"] == 5)
        #expect(result.output?["truncated"] == false)
        #expect(result.rule == "reader-sql")
        #expect(try await h.eventTypes(of: result.callID) == ["tool.requested", "tool.authorized", "tool.started", "tool.completed"])

        let capped = await h.call("sql.query", ["sql": "SELECT id FROM orders ORDER BY id", "max_rows": 2], as: "user:rita")
        #expect(capped.output?["rows"] == [[1], [2]])
        #expect(capped.output?["truncated"] == true)
        #expect(capped.output?["truncated_by"] == "rows")
        await warehouse.remove()
    }

    @Test(arguments: TestWarehouse.engines)
    func queryRefusesWritesAtTheGuardrail(engine: SQLEngine) async throws {
        guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)) else { return }
        let h = try await makeHarness(policy: dataPolicy(), environment: warehouse.environment())
        defer { h.remove() }

        let result = await h.call("sql.query", ["sql": "DELETE FROM orders WHERE id = 1"], as: "user:dana")
        #expect(result.status == .denied)
        #expect(result.stage == "guardrail")
        #expect(result.rule == "sql.read_only")
        #expect(try await h.eventTypes(of: result.callID) == ["tool.requested", "tool.authorized", "guardrail.blocked", "tool.denied"])
        #expect(try await warehouse.rows("SELECT count(*) FROM orders") == [[.integer(5)]])
        await warehouse.remove()
    }

    @Test(arguments: TestWarehouse.engines)
    func queryNeedsReadOnEveryTable(engine: SQLEngine) async throws {
        guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)) else { return }
        let h = try await makeHarness(policy: dataPolicy(), environment: warehouse.environment())
        defer { h.remove() }

        let allowed = await h.call("sql.query", ["sql": "SELECT name FROM customers WHERE id = 1"], as: "user:carl")
        #expect(allowed.status == .completed)
        #expect(allowed.output?["rows"] == [["Ada"]])

        // A statement the guardrail refuses is still authorized on the tables it names, so a
        // caller with rights on them is told which guardrail refused it.
        let drop = await h.call("sql.query", ["sql": "DROP TABLE customers"], as: "user:carl")
        #expect(drop.stage == "guardrail" && drop.rule == "sql.read_only")
        #expect(try await warehouse.rows("SELECT count(*) FROM customers").count == 1)

        let joined = await h.call("sql.query", ["sql": "SELECT c.name, o.amount FROM customers c JOIN orders o ON o.customer_id = c.id"],
                                  as: "user:carl")
        #expect(joined.status == .denied)
        #expect(joined.stage == "authorization")
        #expect(joined.message?.contains(warehouse.resource("orders")) == true)
        #expect(try await h.eventTypes(of: joined.callID) == ["tool.requested", "tool.denied"])

        // No table at all: the whole connection is what is read.
        let constant = await h.call("sql.query", ["sql": "SELECT 1"], as: "user:carl")
        #expect(constant.stage == "authorization")
        #expect(constant.message?.contains("warehouse.*") == true)
        await warehouse.remove()
    }

    @Test(arguments: TestWarehouse.engines)
    func executeWritesAndReturnsRows(engine: SQLEngine) async throws {
        guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)) else { return }
        let h = try await makeHarness(policy: dataPolicy(), environment: warehouse.environment())
        defer { h.remove() }

        let insert = await h.call("sql.execute", ["sql": "INSERT INTO orders (id, customer_id, amount, status) VALUES (6, 3, 1, 'open')"],
                                  as: "user:wes")
        #expect(insert.status == .completed, "\(insert.message ?? "")")
        #expect(insert.output?["rows_affected"] == 1)
        #expect(try await h.eventTypes(of: insert.callID) == ["tool.requested", "tool.authorized", "tool.started", "tool.completed"])

        let returning = await h.call("sql.execute", ["sql": "UPDATE orders SET status = 'paid' WHERE id = 6 RETURNING id, status"],
                                     as: "user:wes")
        #expect(returning.status == .completed, "\(returning.message ?? "")")
        #expect(returning.output?["rows_affected"] == 1)
        #expect(returning.output?["rows"] == [[6, "paid"]])

        // A read sent to sql.execute runs on a read-only handle.
        let read = await h.call("sql.execute", ["sql": "SELECT count(*) FROM orders"], as: "user:wes")
        #expect(read.status == .completed, "\(read.message ?? "")")
        #expect(read.output?["rows"] == [[6]])

        let ddl = await h.call("sql.execute", ["sql": "CREATE TABLE notes (id integer PRIMARY KEY, body text)"], as: "user:wes")
        #expect(ddl.status == .completed, "\(ddl.message ?? "")")
        #expect(try await warehouse.rows("SELECT count(*) FROM notes") == [[.integer(0)]])
        await warehouse.remove()
    }

    @Test(arguments: TestWarehouse.engines)
    func writesNeedWriteRightsAndDDLNeedsDDLRights(engine: SQLEngine) async throws {
        guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)) else { return }
        let policy = dataPolicy(extra: """
            agents:
              agent:loader:
                grants:
                  - {id: loader-write, action: [sql:read, sql:write], resource: "warehouse.*"}
            """)
        let h = try await makeHarness(policy: policy, environment: warehouse.environment())
        defer { h.remove() }

        let readOnly = await h.call("sql.execute", ["sql": "DELETE FROM orders WHERE id = 1"], as: "user:rita")
        #expect(readOnly.status == .denied)
        #expect(readOnly.stage == "authorization")
        #expect(readOnly.message?.contains("sql:write") == true)

        let ddl = await h.call("sql.execute", ["sql": "CREATE TABLE t (id integer)"], as: "user:wes", agent: "agent:loader")
        #expect(ddl.stage == "authorization")
        #expect(ddl.message?.contains("sql:ddl") == true)

        let write = await h.call("sql.execute", ["sql": "DELETE FROM orders WHERE id = 1"], as: "user:wes", agent: "agent:loader")
        #expect(write.status == .completed, "\(write.message ?? "")")
        #expect(try await warehouse.rows("SELECT count(*) FROM orders") == [[.integer(4)]])
        await warehouse.remove()
    }

    @Test(arguments: TestWarehouse.engines)
    func destructiveStatementsNeedTheRightAndAnApproval(engine: SQLEngine) async throws {
        guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)) else { return }
        let policy = dataPolicy(extra: """
            agents:
              agent:janitor:
                grants:
                  - {id: janitor, action: [sql:read, sql:write, sql:destructive], resource: "warehouse.*"}
            """)
        let refusing = try await makeHarness(policy: policy, environment: warehouse.environment())
        defer { refusing.remove() }

        // Write rights are not enough: sql:destructive is explicit-only, and an agent never has more than its caller.
        let writer = await refusing.call("sql.execute", ["sql": "DELETE FROM orders"], as: "user:wes")
        #expect(writer.stage == "authorization")
        #expect(writer.message?.contains("sql:destructive") == true)
        let delegated = await refusing.call("sql.execute", ["sql": "DELETE FROM orders"], as: "user:wes", agent: "agent:janitor")
        #expect(delegated.stage == "authorization")

        // The right without an approval: the default gate refuses, and nothing changes.
        let unapproved = await refusing.call("sql.execute", ["sql": "DELETE FROM orders"], as: "user:dana")
        #expect(unapproved.status == .denied)
        #expect(unapproved.stage == "approval")
        #expect(try await refusing.eventTypes(of: unapproved.callID) == ["tool.requested", "tool.authorized", "approval.requested", "tool.denied"])
        let requested = try await refusing.events(of: unapproved.callID).first { $0.type == "approval.requested" }
        #expect(requested?.data.contains("destructive statement: DELETE without WHERE") == true)
        #expect(try await warehouse.rows("SELECT count(*) FROM orders") == [[.integer(5)]])

        // Approved by another admin: it runs.
        let approving = try await makeHarness(policy: policy, environment: warehouse.environment(),
                                              approvals: ApprovalGates.automatic(grant: true, decidedBy: "user:olga"))
        defer { approving.remove() }
        let approved = await approving.call("sql.execute", ["sql": "DELETE FROM orders"], as: "user:dana", agent: "agent:janitor")
        #expect(approved.status == .completed, "\(approved.message ?? "")")
        #expect(approved.output?["rows_affected"] == 5)
        #expect(try await approving.eventTypes(of: approved.callID)
            == ["tool.requested", "tool.authorized", "approval.requested", "approval.granted", "tool.started", "tool.completed"])
        #expect(try await warehouse.rows("SELECT count(*) FROM orders") == [[.integer(0)]])
        await warehouse.remove()
    }

    @Test(arguments: TestWarehouse.engines)
    func engineErrorsAreFailuresWithTheEnginesMessage(engine: SQLEngine) async throws {
        guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)) else { return }
        let h = try await makeHarness(policy: dataPolicy(), environment: warehouse.environment())
        defer { h.remove() }

        let result = await h.call("sql.query", ["sql": "SELECT nope FROM orders"], as: "user:rita")
        #expect(result.status == .failed)
        #expect(result.errorType == "sql_error")
        #expect(result.message?.contains("nope") == true)
        #expect(try await h.eventTypes(of: result.callID) == ["tool.requested", "tool.authorized", "tool.started", "tool.failed"])

        let unknown = await h.call("sql.query", ["sql": "SELECT 1", "connection": "elsewhere"], as: "user:rita")
        #expect(unknown.stage == "validation")
        #expect(unknown.message?.contains("no connection named `elsewhere`") == true)
        await warehouse.remove()
    }
}
