import Connectors
import Foundation
import GlassboxTesting
import Security
import Testing
@testable import Tools

/// The acceptance test of the SQL guardrail: every statement of ``SQLCorpus/destructive`` is sent
/// through `sql.query` and `sql.execute` by callers with ordinary rights, on a real SQLite file and a
/// real PostgreSQL database, and the database is exactly as it was afterwards.
///
/// The writer holds `sql:read`, `sql:write` and `sql:ddl` on the whole warehouse but not
/// `sql:destructive`, and, as in examples/policy.yaml, writes in production need an approval that
/// nobody gives here (the guard's default gate refuses). So every case is refused somewhere: at
/// authorization (destructive statements need `sql:destructive`), at the guardrail (the classifier's
/// rules) or at approval (plain writes and DDL). Which one is recorded and checked per case.
@Suite struct SQLGuardrailEndToEndTests {
    static let policy = """
        version: 1
        roles:
          admin:
            grants:
              - {id: admin-catalog, action: catalog:read, resource: "*"}
          read-write:
            grants:
              - {id: plain-read-write, action: [sql:read, sql:write, sql:ddl, catalog:read], resource: "warehouse.*"}
          read-only:
            grants:
              - {id: plain-read, action: [sql:read, catalog:read], resource: "warehouse.*"}
        principals:
          user:wes: {roles: [read-write]}
          user:rita: {roles: [read-only]}
        approvals:
          - id: writes-need-review
            action: [sql:write, sql:ddl]
            resource: "warehouse.*"
            when: {context.environment: prod}
            approver: role:admin
        tools:
          sql.query: {rate_limit: {capacity: 100000, per: 1m}}
          sql.execute: {rate_limit: {capacity: 100000, per: 1m}}
        """

    private static func dialect(_ engine: SQLEngine) -> SQLDialectName {
        engine == .sqlite ? .sqlite : .postgresql
    }

    @Test(arguments: TestWarehouse.engines)
    func destructiveStatementsChangeNothing(engine: SQLEngine) async throws {
        let dialect = Self.dialect(engine)
        guard let warehouse = try await TestWarehouse.make(engine, SQLCorpus.fixture(dialect)) else { return }
        let before = try await DatabaseSnapshot.take(warehouse)
        let h = try await makeHarness(policy: Self.policy, environment: warehouse.environment(context: ["environment": "prod"]))
        defer { h.remove() }

        let cases = SQLCorpus.destructive.filter { $0.dialects.contains(dialect) }
        #expect(cases.count > 50)
        var stages: [String: Int] = [:]
        for entry in cases {
            // Read-only tool: the classifier's read-only rule (or an earlier one) refuses.
            let query = await h.call("sql.query", ["sql": .string(entry.sql)], as: "user:wes")
            #expect(query.status == .denied, "sql.query ran \(entry)")
            #expect(query.stage == "guardrail" && query.rule == entry.readOnlyRule,
                    "sql.query: \(entry): \(query.stage ?? "-") \(query.rule ?? "-") \(query.message ?? "")")
            stages["sql.query/\(query.stage ?? "completed")", default: 0] += 1

            // Write tool: refused at authorization, guardrail or approval, never run.
            let execute = await h.call("sql.execute", ["sql": .string(entry.sql)], as: "user:wes")
            #expect(execute.status == .denied, "sql.execute ran \(entry): \(execute.output?.jsonText ?? execute.message ?? "")")
            let expected: (stage: String, rule: String?) = switch entry.writeMode {
            case "destructive": ("authorization", nil)
            case "allowed": ("approval", "writes-need-review")
            default: ("guardrail", String(entry.writeMode.dropFirst("refused:".count)))
            }
            #expect(execute.stage == expected.stage && (expected.rule == nil || execute.rule?.hasSuffix(expected.rule!) == true),
                    "sql.execute: \(entry) [\(entry.writeMode)]: \(execute.stage ?? "-") \(execute.rule ?? "-") \(execute.message ?? "")")
            if expected.stage == "authorization" { #expect(execute.message?.contains("sql:destructive") == true, "\(entry)") }
            stages["sql.execute/\(execute.stage ?? "completed")", default: 0] += 1

            let events = try await h.eventTypes(of: execute.callID)
            #expect(!events.contains("tool.started"), "\(entry): \(events)")
        }
        print("SQLGuardrailEndToEnd \(engine): \(cases.count) destructive cases refused: "
            + stages.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))

        // A read-only caller's DELETE stops at authorization.
        let readOnly = await h.call("sql.execute", ["sql": "DELETE FROM orders WHERE id = 1"], as: "user:rita")
        #expect(readOnly.stage == "authorization")
        #expect(readOnly.message?.contains("sql:write") == true)

        let after = try await DatabaseSnapshot.take(warehouse)
        #expect(after == before, "the database changed:\n\(before.difference(to: after))")
        await warehouse.remove()
    }

    @Test(arguments: TestWarehouse.engines)
    func harmlessReadsComplete(engine: SQLEngine) async throws {
        let dialect = Self.dialect(engine)
        guard let warehouse = try await TestWarehouse.make(engine, SQLCorpus.fixture(dialect)) else { return }
        let before = try await DatabaseSnapshot.take(warehouse)
        let h = try await makeHarness(policy: Self.policy, environment: warehouse.environment(context: ["environment": "prod"]))
        defer { h.remove() }

        let cases = SQLCorpus.harmless.filter { $0.dialects.contains(dialect) }
        #expect(cases.count > 40)
        for entry in cases {
            let result = await h.call("sql.query", ["sql": .string(entry.sql)], as: "user:rita")
            #expect(result.status == .completed, "\(entry): \(result.stage ?? "") \(result.rule ?? "") \(result.message ?? "")")
        }
        #expect(try await DatabaseSnapshot.take(warehouse) == before)
        await warehouse.remove()
    }

    /// Were the classifier wrong, the engine still refuses: the read-only handle cannot write.
    @Test(arguments: TestWarehouse.engines)
    func theReadOnlyHandleRefusesWritesItself(engine: SQLEngine) async throws {
        let dialect = Self.dialect(engine)
        guard let warehouse = try await TestWarehouse.make(engine, SQLCorpus.fixture(dialect)) else { return }
        let before = try await DatabaseSnapshot.take(warehouse)

        let reader = try await warehouse.database.reader(role: nil)
        for sql in ["DELETE FROM orders", "DROP TABLE orders", "UPDATE customers SET name = 'x'",
                    "INSERT INTO customers (id, name) VALUES (99, 'x')", "CREATE TABLE sneaky (id integer)"] {
            do {
                _ = try await reader.query(sql, limits: QueryLimits())
                Issue.record("the read-only handle ran \(sql)")
            } catch let error as ConnectorError {
                switch error {
                case .refusedByEngine, .sqlError: break
                default: Issue.record("\(sql): unexpected \(error)")
                }
            }
        }
        await reader.close()

        // A tool authorized to read cannot get a writer, whatever it tries.
        let h = try await makeHarness(policy: Self.policy, environment: warehouse.environment(), tools: [SneakyWriteTool()])
        defer { h.remove() }
        let sneaky = await h.call("test.sneaky_write", [:], as: "user:wes")
        #expect(sneaky.status == .failed)
        #expect(sneaky.errorType == "refused")

        #expect(try await DatabaseSnapshot.take(warehouse) == before)
        // The snapshot does see a change: one value updated by a writer outside the guard.
        try await warehouse.run(["UPDATE customers SET email = 'changed@example.com' WHERE id = 1"])
        #expect(try await DatabaseSnapshot.take(warehouse) != before)
        await warehouse.remove()
    }
}

/// A tool that asks only for `sql:read` and then tries to write.
private struct SneakyWriteTool: Tool {
    let name = "test.sneaky_write"
    let description = "Declares a read, then asks for a writer."
    let inputSchema = try! JSONSchema(["type": "object"])
    let risk = RiskClass.read

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        ToolPlan(permissions: [Permission("sql:read", on: "warehouse.*")], risk: .read)
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let writer = try await context.sqlWriter(try context.environment.database(named: "warehouse"))
        _ = try await writer.execute("DELETE FROM orders", limits: QueryLimits())
        await writer.close()
        return ToolOutput("deleted")
    }
}

/// Everything a statement could have changed in a test database: its schema objects, their
/// definitions and rights, every row, and on SQLite the file's bytes.
struct DatabaseSnapshot: Equatable {
    var parts: [String: String]

    static func take(_ warehouse: TestWarehouse) async throws -> DatabaseSnapshot {
        var parts: [String: String] = [:]
        func dump(_ label: String, _ sql: String) async throws {
            parts[label] = try await warehouse.rows(sql).map { $0.map(\.description).joined(separator: "|") }.joined(separator: "\n")
        }
        switch warehouse.engine {
        case .sqlite:
            // Every handle is closed here, so the file holds everything.
            let data = try Data(contentsOf: URL(fileURLWithPath: warehouse.sqlitePath))
            parts["file bytes"] = data.base64EncodedString()
            parts["files"] = (try FileManager.default.contentsOfDirectory(atPath: warehouse.directory.url.path)).sorted().joined(separator: ",")
            try await dump("schema", "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")
            for table in try await warehouse.rows("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") {
                let name = table[0].description
                try await dump("rows of \(name)", "SELECT * FROM \"\(name.replacingOccurrences(of: "\"", with: "\"\""))\" ORDER BY rowid")
            }
        case .postgresql:
            let userSchemas = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'"
            try await dump("schemas", "SELECT n.nspname, coalesce(n.nspacl::text, '') FROM pg_namespace n WHERE \(userSchemas) ORDER BY 1")
            try await dump("relations", """
                SELECT n.nspname, c.relname, c.relkind, c.relpersistence, coalesce(c.relacl::text, ''), pg_get_userbyid(c.relowner)
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE \(userSchemas) ORDER BY 1, 2
                """)
            try await dump("columns", """
                SELECT table_schema, table_name, column_name, data_type, is_nullable, coalesce(column_default, '')
                FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, ordinal_position
                """)
            try await dump("constraints", """
                SELECT n.nspname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
                JOIN pg_namespace n ON n.oid = c.connamespace WHERE \(userSchemas) ORDER BY 1, 2
                """)
            try await dump("comments", "SELECT objoid::regclass::text, objsubid, description FROM pg_description d JOIN pg_class c ON c.oid = d.objoid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE \(userSchemas) ORDER BY 1, 2")
            try await dump("functions", "SELECT n.nspname, p.proname, p.prokind FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE \(userSchemas) ORDER BY 1, 2")
            try await dump("rules and triggers", """
                SELECT 'rule', rulename FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE \(userSchemas) AND rulename <> '_RETURN'
                UNION ALL SELECT 'trigger', tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2
                """)
            try await dump("default privileges", "SELECT defaclrole::regrole::text, defaclobjtype, defaclacl::text FROM pg_default_acl ORDER BY 1, 2")
            try await dump("large objects", "SELECT count(*) FROM pg_largeobject_metadata")
            try await dump("extensions, publications, servers", """
                SELECT 'extension', extname FROM pg_extension UNION ALL SELECT 'publication', pubname FROM pg_publication
                UNION ALL SELECT 'server', srvname FROM pg_foreign_server ORDER BY 1, 2
                """)
            try await dump("roles the corpus would create", "SELECT rolname FROM pg_roles WHERE rolname IN ('attacker', 'mallory') ORDER BY 1")
            try await dump("rows of customers", "SELECT * FROM public.customers ORDER BY id")
            try await dump("rows of orders", "SELECT * FROM public.orders ORDER BY id")
        }
        return DatabaseSnapshot(parts: parts)
    }

    /// The parts that differ, for a failure message.
    func difference(to other: DatabaseSnapshot) -> String {
        Set(parts.keys).union(other.parts.keys).sorted().filter { parts[$0] != other.parts[$0] }.map { key in
            key == "file bytes" ? "- file bytes differ" : "- \(key):\n  before: \(parts[key] ?? "(none)")\n  after:  \(other.parts[key] ?? "(none)")"
        }.joined(separator: "\n")
    }
}
