import Connectors
import Foundation
import Testing
@testable import Tools

extension CatalogToolsTests {
    @Suite struct Ranking {
        private let tables = [
            TableInfo(schema: "main", name: "orders", kind: "table", columns: [
                ColumnInfo(name: "id", type: "INTEGER", nullable: false),
                ColumnInfo(name: "customer_id", type: "INTEGER", nullable: false, comment: "Who ordered"),
                ColumnInfo(name: "status", type: "TEXT", nullable: false, comment: "open, shipped or cancelled"),
            ]),
            TableInfo(schema: "main", name: "customers", kind: "table", columns: [
                ColumnInfo(name: "id", type: "INTEGER", nullable: false),
                ColumnInfo(name: "Customer", type: "TEXT", nullable: false),
            ], comment: "People who buy"),
            TableInfo(schema: "crm", name: "customer_notes", kind: "view", columns: [
                ColumnInfo(name: "body", type: "TEXT", nullable: true, comment: "Free text about the CUSTOMER"),
            ]),
        ]

        @Test func namesRankBeforeCommentsAndExactBeforePartial() {
            let hits = CatalogSearch.rank(term: "Customer", in: tables, limit: 10)
            #expect(hits.map { "\($0.table).\($0.column ?? "")/\($0.field.rawValue)/\($0.score)" } == [
                "customer_notes./table_name/70",
                "customers./table_name/70",
                "customers.Customer/column_name/60",
                "orders.customer_id/column_name/40",
                "customer_notes.body/column_comment/10",
            ])
            #expect(hits[2].type == "TEXT")
        }

        @Test func commentsMatchAndTheLimitCuts() {
            let hits = CatalogSearch.rank(term: "buy", in: tables, limit: 10)
            #expect(hits.map(\.field) == [.tableComment])
            #expect(hits.first?.text == "People who buy")
            #expect(CatalogSearch.rank(term: "i", in: tables, limit: 2).count == 2)
            #expect(CatalogSearch.rank(term: "zzz", in: tables, limit: 10).isEmpty)
        }

        @Test func describeJSONKeepsKeyOrderAndMarksKeyColumns() {
            let info = TableInfo(schema: "main", name: "lines", kind: "table", columns: [
                ColumnInfo(name: "order_id", type: "INTEGER", nullable: false),
                ColumnInfo(name: "line", type: "INTEGER", nullable: false, defaultValue: "1", comment: "position"),
            ], primaryKey: ["order_id", "line"],
               foreignKeys: [ForeignKey(columns: ["order_id"], referencedSchema: "main", referencedTable: "orders", referencedColumns: ["id"])],
               rowEstimate: 12)
            let json = info.json
            #expect(json["primary_key"] == ["order_id", "line"])
            #expect(json["columns"]?.array?[1] == ["name": "line", "type": "INTEGER", "nullable": false, "default": "1",
                                                   "comment": "position", "primary_key": true])
            #expect(json["foreign_keys"] == [["columns": ["order_id"], "references": ["schema": "main", "table": "orders", "columns": ["id"]]]])
            #expect(json["row_estimate"] == 12)
            #expect(json["comment"] == .null)
        }
    }
}

// MARK: - Through the guard

@Suite struct CatalogToolsTests {
    @Test(arguments: TestWarehouse.engines)
    func listTablesShowsTablesAndViews(engine: SQLEngine) async throws {
        guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)
            + ["CREATE VIEW paid_orders AS SELECT * FROM orders WHERE status = 'paid'"]) else { return }
        let h = try await makeHarness(policy: dataPolicy(), environment: warehouse.environment())
        defer { h.remove() }

        let result = await h.call("catalog.list_tables", [:], as: "user:rita")
        #expect(result.status == .completed, "\(result.message ?? "")")
        let tables = result.output?["tables"]?.array ?? []
        #expect(tables.compactMap { $0["name"]?.string }.sorted() == ["customers", "orders", "paid_orders"])
        #expect(tables.first { $0["name"] == "paid_orders" }?["kind"] == "view")
        #expect(tables.allSatisfy { $0["schema"]?.string == warehouse.defaultSchema })
        #expect(result.output?["count"] == 3)
        #expect(try await h.eventTypes(of: result.callID) == ["tool.requested", "tool.authorized", "tool.started", "tool.completed"])

        let filtered = await h.call("catalog.list_tables", ["schema": .string(warehouse.defaultSchema)], as: "user:rita")
        #expect(filtered.output?["count"] == 3)
        await warehouse.remove()
    }

    @Test(arguments: TestWarehouse.engines)
    func listingNeedsCatalogReadOnWhatItCovers(engine: SQLEngine) async throws {
        guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)) else { return }
        let schema = warehouse.defaultSchema
        let policy = dataPolicy(extra: """
            agents:
              agent:one-schema:
                grants:
                  - {id: one-schema, action: catalog:read, resource: "warehouse.\(schema).*"}
            """)
        let h = try await makeHarness(policy: policy, environment: warehouse.environment())
        defer { h.remove() }

        let everything = await h.call("catalog.list_tables", [:], as: "user:rita", agent: "agent:one-schema")
        #expect(everything.stage == "authorization")
        #expect(everything.message?.contains("warehouse.*") == true)
        let oneSchema = await h.call("catalog.list_tables", ["schema": .string(schema)], as: "user:rita", agent: "agent:one-schema")
        #expect(oneSchema.status == .completed, "\(oneSchema.message ?? "")")
        let described = await h.call("catalog.describe_table", ["table": "orders"], as: "user:rita", agent: "agent:one-schema")
        #expect(described.status == .completed)
        // Data is another right: the catalog grant does not let the agent read rows.
        let rows = await h.call("sql.query", ["sql": "SELECT * FROM orders"], as: "user:rita", agent: "agent:one-schema")
        #expect(rows.stage == "authorization")
        await warehouse.remove()
    }

    @Test(arguments: TestWarehouse.engines)
    func describeTableGivesColumnsKeysAndComments(engine: SQLEngine) async throws {
        guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)) else { return }
        let h = try await makeHarness(policy: dataPolicy(), environment: warehouse.environment())
        defer { h.remove() }

        let result = await h.call("catalog.describe_table", ["table": "orders"], as: "user:rita")
        #expect(result.status == .completed, "\(result.message ?? "")")
        let output = try #require(result.output)
        #expect(output["name"] == "orders")
        #expect(output["schema"]?.string == warehouse.defaultSchema)
        #expect(output["kind"] == "table")
        #expect(output["primary_key"] == ["id"])
        let columns = output["columns"]?.array ?? []
        #expect(columns.compactMap { $0["name"]?.string } == ["id", "customer_id", "amount", "status", "note"])
        #expect(columns[0]["primary_key"] == true)
        #expect(columns[1]["nullable"] == false)
        #expect(columns[3]["nullable"] == true)
        #expect(columns[1]["comment"] == "Who ordered")
        #expect(output["foreign_keys"]?.array?.first?["columns"] == ["customer_id"])
        #expect(output["foreign_keys"]?.array?.first?["references"]?["table"] == "customers")

        let customers = await h.call("catalog.describe_table", ["table": "customers", "schema": .string(warehouse.defaultSchema)], as: "user:rita")
        #expect(customers.output?["comment"] == "People who buy")

        let missing = await h.call("catalog.describe_table", ["table": "nothing_here"], as: "user:rita")
        #expect(missing.status == .failed)
        #expect(missing.errorType == "not_found")
        #expect(try await h.eventTypes(of: missing.callID) == ["tool.requested", "tool.authorized", "tool.started", "tool.failed"])

        let forbidden = await h.call("catalog.describe_table", ["table": "orders"], as: "user:carl")
        #expect(forbidden.stage == "authorization")
        #expect(forbidden.message?.contains(warehouse.resource("orders")) == true)
        await warehouse.remove()
    }

    @Test(arguments: TestWarehouse.engines)
    func searchFindsTablesColumnsAndComments(engine: SQLEngine) async throws {
        guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)) else { return }
        let h = try await makeHarness(policy: dataPolicy(), environment: warehouse.environment())
        defer { h.remove() }

        let result = await h.call("catalog.search", ["term": "CUSTOMER"], as: "user:rita")
        #expect(result.status == .completed, "\(result.message ?? "")")
        let hits = result.output?["results"]?.array ?? []
        #expect(hits.first?["table"] == "customers")
        #expect(hits.first?["matched_on"] == "table_name")
        #expect(hits.contains { $0["column"] == "customer_id" && $0["matched_on"] == "column_name" })

        let comment = await h.call("catalog.search", ["term": "full name", "limit": 5], as: "user:rita")
        #expect(comment.output?["results"]?.array?.map { $0["column"] } == ["name"])
        let limited = await h.call("catalog.search", ["term": "e", "limit": 2], as: "user:rita")
        #expect(limited.output?["count"] == 2)
        await warehouse.remove()
    }
}
