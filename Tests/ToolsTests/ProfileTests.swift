import Connectors
import Foundation
import Testing
@testable import Tools

/// `profile.table`: the SQL it generates, and profiles of real tables through the guard.
@Suite struct ProfileTests {}

extension ProfileTests {
    @Suite struct GeneratedSQL {
        @Test func identifiersAreQuotedForTheEngine() throws {
            let queries = try ProfileQueries(engine: .sqlite, schema: "main", table: "order \"lines\"", columns: [
                ColumnInfo(name: "select", type: "INTEGER", nullable: false),
                ColumnInfo(name: "we\"ird", type: "TEXT", nullable: true),
                ColumnInfo(name: "payload", type: "BLOB", nullable: true),
            ], sampleRows: nil)
            let summaries = queries.summaries
            #expect(summaries.count == 1)
            #expect(summaries[0].sql == #"SELECT count(*), count("select"), count(DISTINCT "select"), min("select"), max("select"), "#
                + #"count("we""ird"), count(DISTINCT "we""ird"), min("we""ird"), max("we""ird"), "#
                + #"count("payload"), count(DISTINCT "payload"), NULL, NULL FROM "main"."order ""lines""""#)
            #expect(queries.topValues(queries.columns[1]) == #"SELECT "we""ird", count(*) FROM "main"."order ""lines""" "#
                + #"WHERE "we""ird" IS NOT NULL GROUP BY "we""ird" ORDER BY 2 DESC, 1 LIMIT 5"#)
        }

        @Test func aSampleReadsOnlyTheFirstRows() throws {
            let queries = try ProfileQueries(engine: .postgresql, schema: "sales", table: "Orders",
                                             columns: [ColumnInfo(name: "id", type: "bigint", nullable: false)], sampleRows: 1_000)
            #expect(queries.summaries[0].sql == #"SELECT count(*), count("id"), count(DISTINCT "id"), min("id"), max("id") "#
                + #"FROM (SELECT * FROM "sales"."Orders" LIMIT 1000) AS "sample""#)
        }

        @Test func postgresTypesWithoutEqualityOrOrderAreHandled() throws {
            let columns = [
                ColumnInfo(name: "doc", type: "json", nullable: true),
                ColumnInfo(name: "flag", type: "boolean", nullable: true),
                ColumnInfo(name: "amount", type: "numeric(12,2)", nullable: true),
                ColumnInfo(name: "at", type: "timestamp with time zone", nullable: true),
                ColumnInfo(name: "name", type: "character varying(40)", nullable: true),
                ColumnInfo(name: "id", type: "uuid", nullable: true),
                ColumnInfo(name: "tags", type: "text[]", nullable: true),
                ColumnInfo(name: "mood", type: "USER-DEFINED", nullable: true),
            ]
            let queries = try ProfileQueries(engine: .postgresql, schema: "public", table: "t", columns: columns, sampleRows: nil)
            let byName = Dictionary(uniqueKeysWithValues: queries.columns.map { ($0.name, $0) })
            #expect(byName["doc"]?.expression == "CAST(\"doc\" AS text)")
            #expect(byName["doc"]?.orderable == false)
            #expect(byName["flag"]?.expression == "\"flag\"")
            #expect(byName["flag"]?.orderable == false)
            #expect(byName["amount"]?.orderable == true)
            #expect(byName["at"]?.orderable == true)
            #expect(byName["name"]?.orderable == true)
            #expect(byName["id"]?.orderable == false)
            #expect(byName["id"]?.expression == "\"id\"")
            #expect(byName["tags"]?.expression == "\"tags\"")
            #expect(byName["mood"]?.expression == "CAST(\"mood\" AS text)")
        }

        @Test func manyColumnsAreSplitIntoSeveralSummaries() throws {
            let columns = (0..<250).map { ColumnInfo(name: "c\($0)", type: "INTEGER", nullable: true) }
            let queries = try ProfileQueries(engine: .sqlite, schema: "main", table: "wide", columns: columns, sampleRows: nil)
            let summaries = queries.summaries
            #expect(summaries.map(\.columns.count) == [100, 100, 50])
            #expect(summaries[2].columns.first?.name == "c200")
            #expect(summaries.allSatisfy { $0.sql.hasPrefix("SELECT count(*), ") })
            let none = try ProfileQueries(engine: .sqlite, schema: "main", table: "t", columns: [], sampleRows: nil)
            #expect(none.summaries.map(\.sql) == ["SELECT count(*) FROM \"main\".\"t\""])
        }

        @Test func identifiersWithNULCannotBeWritten() {
            #expect(throws: ToolError.self) {
                try ProfileQueries(engine: .sqlite, schema: "main", table: "a\u{0}b", columns: [], sampleRows: nil)
            }
        }
    }
}

// MARK: - Through the guard

extension ProfileTests {
    @Suite struct ThroughTheGuard {
        private func column(_ output: JSONValue?, _ name: String) -> JSONValue? {
            output?["columns"]?.array?.first { $0["name"]?.string == name }
        }

        @Test(arguments: TestWarehouse.engines)
        func profileMeasuresEveryColumn(engine: SQLEngine) async throws {
            guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)) else { return }
            let h = try await makeHarness(policy: dataPolicy(), environment: warehouse.environment())
            defer { h.remove() }

            let result = await h.call("profile.table", ["table": "orders"], as: "user:rita")
            #expect(result.status == .completed, "\(result.message ?? "")")
            #expect(try await h.eventTypes(of: result.callID) == ["tool.requested", "tool.authorized", "tool.started", "tool.completed"])
            let output = result.output
            #expect(output?["row_count"] == 5)
            #expect(output?["sampled"] == false)
            #expect(output?["columns"]?.array?.count == 5)

            let note = column(output, "note")
            #expect(note?["null_count"] == 3)
            #expect(note?["null_ratio"]?.double == 0.6)
            #expect(note?["distinct_count"] == 2)
            #expect(note?["distinct_ratio"]?.double == 1.0)

            let status = column(output, "status")
            #expect(status?["top_values"] == [["value": "paid", "count": 3], ["value": "cancelled", "count": 1], ["value": "open", "count": 1]])
            #expect(status?["min"] == "cancelled")
            #expect(status?["max"] == "paid")

            let amount = column(output, "amount")
            #expect(amount?["min"]?.double == 5.25)
            #expect(amount?["max"]?.double == 100)
            let id = column(output, "id")
            #expect(id?["distinct_ratio"]?.double == 1.0)
            #expect(id?["null_ratio"]?.double == 0)
            await warehouse.remove()
        }

        @Test(arguments: TestWarehouse.engines)
        func aSubsetOfColumnsAndASample(engine: SQLEngine) async throws {
            guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)) else { return }
            let h = try await makeHarness(policy: dataPolicy(), environment: warehouse.environment())
            defer { h.remove() }

            let result = await h.call("profile.table", ["table": "orders", "columns": ["status", "id"], "sample_rows": 2], as: "user:rita")
            #expect(result.status == .completed, "\(result.message ?? "")")
            #expect(result.output?["columns"]?.array?.compactMap { $0["name"]?.string } == ["id", "status"])
            #expect(result.output?["row_count"] == 2)
            #expect(result.output?["sampled"] == true)
            #expect(result.output?["sample_rows"] == 2)

            let unknown = await h.call("profile.table", ["table": "orders", "columns": ["nope"]], as: "user:rita")
            #expect(unknown.status == .failed)
            #expect(unknown.errorType == "invalid_input")
            #expect(unknown.message?.contains("no column `nope`") == true)
            await warehouse.remove()
        }

        @Test(arguments: TestWarehouse.engines)
        func oddIdentifiersAreQuoted(engine: SQLEngine) async throws {
            guard let warehouse = try await TestWarehouse.make(engine, [
                ##"CREATE TABLE "Order ""Lines""" ("select" integer, "we""ird col" text, "Mixed" text)"##,
                ##"INSERT INTO "Order ""Lines""" VALUES (1, 'a', 'x'), (2, 'a', NULL), (NULL, NULL, 'x')"##,
            ]) else { return }
            let h = try await makeHarness(policy: dataPolicy(), environment: warehouse.environment())
            defer { h.remove() }

            let result = await h.call("profile.table", ["table": "Order \"Lines\""], as: "user:rita")
            #expect(result.status == .completed, "\(result.message ?? "")")
            #expect(result.output?["row_count"] == 3)
            #expect(column(result.output, "select")?["max"] == 2)
            #expect(column(result.output, "we\"ird col")?["top_values"] == [["value": "a", "count": 2]])
            #expect(column(result.output, "Mixed")?["null_count"] == 1)
            await warehouse.remove()
        }

        @Test(arguments: TestWarehouse.engines)
        func profilingReadsRowsSoItNeedsSQLRead(engine: SQLEngine) async throws {
            guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)) else { return }
            let policy = dataPolicy(extra: """
                agents:
                  agent:documenter:
                    grants:
                      - {id: documenter-catalog, action: catalog:read, resource: "warehouse.*"}
                """)
            let h = try await makeHarness(policy: policy, environment: warehouse.environment())
            defer { h.remove() }
            let result = await h.call("profile.table", ["table": "orders"], as: "user:rita", agent: "agent:documenter")
            #expect(result.stage == "authorization")
            #expect(result.message?.contains("sql:read") == true)
            await warehouse.remove()
        }
    }
}
