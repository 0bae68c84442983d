import Connectors
import Foundation
import GlassboxTesting
import Testing
@testable import Tools

/// `docs.write_table_doc` and `dbt.create_model`: their pure parts, then both through the guard.
@Suite struct DocsAndDbtTests {}

extension DocsAndDbtTests {
    @Suite struct DbtJinjaRendering {
        private func render(_ sql: String) throws -> DbtJinja.Rendered {
            try DbtJinja.render(sql) { relation throws(ToolError) in
                switch relation {
                case .model(let name): "\"main\".\"\(name)\""
                case .source(let schema, let table): "\"\(schema)\".\"\(table)\""
                }
            }
        }

        @Test func refAndSourceBecomeRelations() throws {
            let rendered = try render("""
                select o.id, c.name
                from {{ ref('orders') }} o join {{ source("crm", 'customers') }} c on c.id = o.customer_id
                join {{ ref('analytics', 'days') }} d using (day)
                join {{ ref('orders') }} again using (id)
                """)
            #expect(rendered.sql == """
                select o.id, c.name
                from "main"."orders" o join "crm"."customers" c on c.id = o.customer_id
                join "main"."days" d using (day)
                join "main"."orders" again using (id)
                """)
            #expect(rendered.relations == [.model("orders"), .source(schema: "crm", table: "customers"), .model("days")])
            #expect(rendered.hasConfig == false)
        }

        @Test func configAndCommentsRenderAsNothing() throws {
            let rendered = try render("{{ config(materialized='table', tags=['a}}b']) }}{# a {{ note }} #}select 1 from {{- ref('x') -}}")
            #expect(rendered.sql == "select 1 from \"main\".\"x\"")
            #expect(rendered.hasConfig)
        }

        @Test func plainBracesAreSQL() throws {
            #expect(try render("select '{' || '}' as braces, '{x}'").sql == "select '{' || '}' as braces, '{x}'")
        }

        @Test(arguments: [
            "{% if true %}select 1{% endif %}",
            "select {{ var('x') }}",
            "select * from {{ ref(orders) }}",
            "select * from {{ ref('a', 'b', 'c') }}",
            "select * from {{ source('only_one') }}",
            "select * from {{ ref('orders', v=2) }}",
            "select * from {{ ref('orders') }",
            "select * from {{ ref('') }}",
            "select 1 {# open comment",
            "select * from {{ this }}",
            "select * from {{ ref('a') | upper }}",
        ])
        func unsupportedJinjaIsRefused(_ sql: String) {
            #expect(throws: ToolError.self) { try render(sql) }
        }
    }
}

extension DocsAndDbtTests {
    @Suite struct DbtSchemaYAMLMerge {
        private let orders = DbtModelEntry(name: "orders_daily", description: "Daily totals: \"gross\" revenue\nper day", columns: [
            .init(name: "day", description: "The day", tests: ["unique", "not_null"]),
            .init(name: "total", description: nil, tests: []),
        ])

        @Test func aNewFileHoldsTheEntry() throws {
            let (text, replaced) = try DbtYAML.merge(orders, into: nil)
            #expect(!replaced)
            #expect(text == """
                version: 2

                models:
                  - name: orders_daily
                    description: "Daily totals: \\"gross\\" revenue\\nper day"
                    columns:
                      - name: day
                        description: "The day"
                        tests:
                          - unique
                          - not_null
                      - name: total

                """)
        }

        @Test func anEntryIsAddedAfterTheOthersKeepingTheRest() throws {
            let existing = """
                version: 2

                # hand-written
                models:
                  - name: customers   # the CRM copy
                    description: "Customers"
                    columns:
                      - name: id
                        tests: [unique]

                sources:
                  - name: crm
                    tables:
                      - name: customers
                """
            let (text, replaced) = try DbtYAML.merge(DbtModelEntry(name: "a", description: "A", columns: []), into: existing)
            #expect(!replaced)
            #expect(text == """
                version: 2

                # hand-written
                models:
                  - name: customers   # the CRM copy
                    description: "Customers"
                    columns:
                      - name: id
                        tests: [unique]
                  - name: a
                    description: "A"

                sources:
                  - name: crm
                    tables:
                      - name: customers

                """)
        }

        @Test func theEntryOfTheSameNameIsReplaced() throws {
            let existing = """
                version: 2
                models:
                - name: first
                  description: one
                - description: old
                  name: "orders_daily"
                  columns:
                    - name: day
                      data_tests: [unique]
                # trailing note
                - name: last
                """
            let (text, replaced) = try DbtYAML.merge(orders, into: existing)
            #expect(replaced)
            #expect(text == """
                version: 2
                models:
                - name: first
                  description: one
                - name: orders_daily
                  description: "Daily totals: \\"gross\\" revenue\\nper day"
                  columns:
                    - name: day
                      description: "The day"
                      data_tests:
                        - unique
                        - not_null
                    - name: total
                # trailing note
                - name: last

                """)
            // Merging again changes nothing: the entry is found by its new form too.
            let again = try DbtYAML.merge(orders, into: text)
            #expect(again.replaced)
            #expect(again.text == text)
        }

        @Test func aNestedColumnNamedLikeTheModelIsNotAMatch() throws {
            let existing = """
                models:
                  - name: other
                    columns:
                      - name: orders_daily
                """
            let (text, replaced) = try DbtYAML.merge(orders, into: existing)
            #expect(!replaced)
            #expect(text.contains("  - name: other\n    columns:\n      - name: orders_daily\n  - name: orders_daily\n"))
        }

        @Test func aFileWithoutModelsGetsTheKey() throws {
            let (text, _) = try DbtYAML.merge(DbtModelEntry(name: "a", description: "", columns: []), into: "version: 2\nsources: []\n")
            #expect(text == "version: 2\nsources: []\n\nmodels:\n  - name: a\n    description: \"\"\n")
            let (empty, _) = try DbtYAML.merge(DbtModelEntry(name: "a", description: "", columns: []), into: "---\nversion: 2\nmodels: []  # none yet\n")
            #expect(empty == "---\nversion: 2\nmodels:\n  - name: a\n    description: \"\"\n")
        }

        @Test func shapesThatCannotBeMergedSafelyAreRefused() {
            #expect(throws: ToolError.self) { try DbtYAML.merge(orders, into: "version: 2\nmodels: [{name: a}]\n") }
            #expect(throws: ToolError.self) { try DbtYAML.merge(orders, into: "version: 2\n---\nmodels:\n  - name: a\n") }
        }

        @Test func scalarsAreQuotedWhenPlainWouldChangeTheirMeaning() {
            #expect(DbtYAML.scalar("orders") == "orders")
            #expect(DbtYAML.scalar("yes") == "\"yes\"")
            #expect(DbtYAML.scalar("1st") == "\"1st\"")
            #expect(DbtYAML.scalar("a: b") == "\"a: b\"")
            #expect(DbtYAML.scalar("Ünïcode") == "\"Ünïcode\"")
            #expect(DbtYAML.quoted("tab\there\u{1}\\") == "\"tab\\there\\x01\\\\\"")
            #expect(DbtYAML.unquote(" \"a\\\"b\" # c") == "a\"b")
            #expect(DbtYAML.unquote(" 'x' ") == "x")
            #expect(DbtYAML.unquote(" plain # comment") == "plain")
        }
    }
}

extension DocsAndDbtTests {
    @Suite struct TableDocPage {
        @Test func thePageHoldsSummaryColumnsKeysAndProfile() {
            let table = TableInfo(schema: "main", name: "orders", kind: "table", columns: [
                ColumnInfo(name: "id", type: "INTEGER", nullable: false),
                ColumnInfo(name: "note|`x`", type: "TEXT", nullable: true, defaultValue: "'n/a'", comment: "free\ntext | more"),
            ], primaryKey: ["id"], foreignKeys: [ForeignKey(columns: ["customer_id"], referencedSchema: "main", referencedTable: "customers", referencedColumns: ["id"])],
            rowEstimate: 3, comment: "One row per order")
            let profile = TableProfile(schema: "main", table: "orders", rowCount: 4, sampleRows: nil, rowEstimate: 3, columns: [
                .init(name: "id", type: "INTEGER", nullCount: 0, distinctCount: 4, min: .integer(1), max: .integer(4),
                      topValues: [.init(value: .integer(1), count: 1)]),
                .init(name: "note|`x`", type: "TEXT", nullCount: 1, distinctCount: 2, min: nil, max: nil,
                      topValues: [.init(value: .text("a"), count: 2), .init(value: .blob([1, 2]), count: 1)]),
            ])
            let page = TableDocMarkdown.render(connection: "warehouse", table: table, summary: "Orders placed.\n", profile: profile)
            #expect(page.hasPrefix("# main.orders\n\nOrders placed.\n\n"))
            #expect(page.contains("| Connection | `warehouse` |"))
            #expect(page.contains("| Primary key | `id` |"))
            #expect(page.contains("| `id` (PK) | `INTEGER` | no |  |  |"))
            #expect(page.contains("| `` note\\|`x` `` | `TEXT` | yes | `'n/a'` | free text \\| more |"))
            #expect(page.contains("- `customer_id` → `main.customers` (`id`)"))
            #expect(page.contains("From all 4 rows."))
            #expect(page.contains("| `id` | 0 (0.0%) | 4 | `1` | `4` | `1` × 1 |"))
            #expect(page.contains("| `` note\\|`x` `` | 1 (25.0%) | 2 |  |  | `a` × 2, (2 bytes) × 1 |"))
        }

        @Test func withoutAProfileThereIsNoProfileSection() {
            let table = TableInfo(schema: "public", name: "t", kind: "view", columns: [])
            let page = TableDocMarkdown.render(connection: "w", table: table, summary: "S", profile: nil)
            #expect(!page.contains("## Profile"))
            #expect(page.contains("| Kind | view |"))
        }
    }
}

// MARK: - Through the guard

/// A workspace folder next to the warehouse, with a dbt project in `analytics/`.
private func makeWorkspace(_ warehouse: TestWarehouse) throws -> Workspace {
    let root = warehouse.directory.url.appendingPathComponent("workspace")
    try FileManager.default.createDirectory(at: root.appendingPathComponent("analytics/models"), withIntermediateDirectories: true)
    try "name: analytics\nversion: '1.0.0'\nprofile: warehouse\n".write(
        to: root.appendingPathComponent("analytics/dbt_project.yml"), atomically: true, encoding: .utf8)
    return Workspace(root: root.path)
}

private func text(_ workspace: Workspace, _ path: String) -> String? {
    try? String(contentsOf: workspace.root.appendingPathComponent(path), encoding: .utf8)
}

private let docsPolicy = dataPolicy(extra: """
    agents:
      agent:documenter:
        grants:
          - {id: documenter-catalog, action: [catalog:read, sql:read], resource: "warehouse.*"}
          - {id: documenter-docs, action: file:write, resource: "workspace:docs/*"}
      agent:modeler:
        grants:
          - {id: modeler-read, action: sql:read, resource: "warehouse.*"}
          - {id: modeler-models, action: dbt:write, resource: "workspace:analytics/models/*"}
    """)

extension DocsAndDbtTests {
    @Suite struct TableDocThroughTheGuard {
        @Test(arguments: TestWarehouse.engines)
        func aPageIsWrittenWithSummaryColumnsAndProfile(engine: SQLEngine) async throws {
            guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)) else { return }
            let workspace = try makeWorkspace(warehouse)
            let h = try await makeHarness(policy: docsPolicy, environment: warehouse.environment(workspace: workspace))
            defer { h.remove() }

            let result = await h.call("docs.write_table_doc", ["table": "orders", "summary": "One row per order."],
                                      as: "user:dana", agent: "agent:documenter")
            #expect(result.status == .completed, "\(result.message ?? "")")
            let path = "docs/warehouse/\(warehouse.defaultSchema)/orders.md"
            #expect(result.output?["path"]?.string == path)
            #expect(result.output?["profiled"] == true)
            #expect(try await h.eventTypes(of: result.callID) == ["tool.requested", "tool.authorized", "tool.started", "tool.completed"])
            let page = try #require(text(workspace, path))
            #expect(page.hasPrefix("# \(warehouse.defaultSchema).orders\n\nOne row per order.\n"))
            #expect(page.contains("| `customer_id` | `"))
            #expect(page.contains("Who ordered"))
            #expect(page.contains("## Profile"))
            #expect(page.contains("`paid` × 3"))

            let plain = await h.call("docs.write_table_doc", ["table": "customers", "summary": "People.", "profile": false,
                                                              "path": "docs/people.md"], as: "user:dana", agent: "agent:documenter")
            #expect(plain.status == .completed, "\(plain.message ?? "")")
            #expect(text(workspace, "docs/people.md")?.contains("## Profile") == false)
            await warehouse.remove()
        }

        @Test(arguments: TestWarehouse.engines)
        func pathsStayInTheWorkspaceAndNeedFileWrite(engine: SQLEngine) async throws {
            guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)) else { return }
            let workspace = try makeWorkspace(warehouse)
            let h = try await makeHarness(policy: docsPolicy, environment: warehouse.environment(workspace: workspace))
            defer { h.remove() }

            let escape = await h.call("docs.write_table_doc", ["table": "orders", "summary": "x", "path": "../outside.md"], as: "user:dana")
            #expect(escape.status == .denied)
            #expect(escape.stage == "guardrail")
            #expect(escape.rule == "file.outside_workspace")
            #expect(try await h.eventTypes(of: escape.callID) == ["tool.requested", "tool.authorized", "guardrail.blocked", "tool.denied"])
            #expect(!FileManager.default.fileExists(atPath: warehouse.directory.path("outside.md")))

            // A link out of the workspace is refused by the file tools' confinement, which the docs tool shares.
            let outside = warehouse.directory.url.appendingPathComponent("outside")
            try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: workspace.root.appendingPathComponent("docs"), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(at: workspace.root.appendingPathComponent("docs/out"), withDestinationURL: outside)
            let link = await h.call("docs.write_table_doc", ["table": "orders", "summary": "x", "path": "docs/out/orders.md"], as: "user:dana")
            #expect(link.stage == "guardrail")
            #expect(link.rule == "file.symlink_escape")
            #expect(FileManager.default.subpaths(atPath: outside.path) == [])

            let elsewhere = await h.call("docs.write_table_doc", ["table": "orders", "summary": "x", "path": "analytics/orders.md"],
                                         as: "user:dana", agent: "agent:documenter")
            #expect(elsewhere.stage == "authorization")
            #expect(elsewhere.message?.contains("workspace:analytics/orders.md") == true)
            #expect(text(workspace, "analytics/orders.md") == nil)
            await warehouse.remove()
        }
    }
}

extension DocsAndDbtTests {
    @Suite struct DbtModelThroughTheGuard {
        @Test(arguments: TestWarehouse.engines)
        func aModelAndItsSchemaEntryAreWritten(engine: SQLEngine) async throws {
            guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)) else { return }
            let workspace = try makeWorkspace(warehouse)
            let h = try await makeHarness(policy: docsPolicy, environment: warehouse.environment(workspace: workspace))
            defer { h.remove() }
            let schema = warehouse.defaultSchema

            let sql = """
                select c.country, count(*) as orders, sum(o.amount) as revenue
                from {{ ref('orders') }} o
                join {{ source('\(schema)', 'customers') }} c on c.id = o.customer_id
                group by c.country;
                """
            let result = await h.call("dbt.create_model", [
                "project": "analytics", "name": "revenue_by_country", "sql": .string(sql),
                "description": "Revenue per country: \"paid\" or not", "materialized": "table",
                "columns": [["name": "country", "description": "ISO code", "tests": ["unique", "not_null"]], ["name": "revenue"]],
            ], as: "user:dana", agent: "agent:modeler")
            #expect(result.status == .completed, "\(result.message ?? "")")
            #expect(result.output?["model_path"] == "analytics/models/revenue_by_country.sql")
            #expect(result.output?["relations"] == ["ref('orders')", .string("source('\(schema)', 'customers')")])
            #expect(try await h.eventTypes(of: result.callID) == ["tool.requested", "tool.authorized", "tool.started", "tool.completed"])

            let model = try #require(text(workspace, "analytics/models/revenue_by_country.sql"))
            #expect(model == "{{ config(materialized='table') }}\n\n" + sql.dropLast() + "\n")
            #expect(text(workspace, "analytics/models/schema.yml") == """
                version: 2

                models:
                  - name: revenue_by_country
                    description: "Revenue per country: \\"paid\\" or not"
                    columns:
                      - name: country
                        description: "ISO code"
                        tests:
                          - unique
                          - not_null
                      - name: revenue

                """)

            // A second model joins the first in schema.yml; the same name again needs `replace`.
            let second = await h.call("dbt.create_model", [
                "project": "analytics", "name": "open_orders", "sql": "select * from {{ ref('orders') }} where status = 'open'",
                "description": "Orders not paid yet",
            ], as: "user:dana", agent: "agent:modeler")
            #expect(second.status == .completed, "\(second.message ?? "")")
            let yaml = text(workspace, "analytics/models/schema.yml") ?? ""
            #expect(yaml.contains("  - name: revenue_by_country\n") && yaml.hasSuffix("  - name: open_orders\n    description: \"Orders not paid yet\"\n"))

            let again = await h.call("dbt.create_model", [
                "project": "analytics", "name": "open_orders", "sql": "select id from {{ ref('orders') }}", "description": "v2",
            ], as: "user:dana", agent: "agent:modeler")
            #expect(again.status == .failed)
            #expect(again.message?.contains("replace") == true)
            let replaced = await h.call("dbt.create_model", [
                "project": "analytics", "name": "open_orders", "sql": "select id from {{ ref('orders') }}", "description": "v2", "replace": true,
            ], as: "user:dana", agent: "agent:modeler")
            #expect(replaced.status == .completed, "\(replaced.message ?? "")")
            #expect(replaced.output?["replaced_schema_entry"] == true)
            #expect(text(workspace, "analytics/models/schema.yml")?.contains("description: \"v2\"") == true)
            #expect(text(workspace, "analytics/models/schema.yml")?.contains("Orders not paid yet") == false)
            await warehouse.remove()
        }

        @Test(arguments: TestWarehouse.engines)
        func theEngineChecksTheModelBeforeAnythingIsWritten(engine: SQLEngine) async throws {
            guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)) else { return }
            let workspace = try makeWorkspace(warehouse)
            let h = try await makeHarness(policy: docsPolicy, environment: warehouse.environment(workspace: workspace))
            defer { h.remove() }

            let badColumn = await h.call("dbt.create_model", [
                "project": "analytics", "name": "broken", "sql": "select no_such_column from {{ ref('orders') }}", "description": "x",
            ], as: "user:dana", agent: "agent:modeler")
            #expect(badColumn.status == .failed)
            #expect(badColumn.errorType == "sql_error")
            #expect(badColumn.message?.contains("no_such_column") == true)
            #expect(try await h.eventTypes(of: badColumn.callID) == ["tool.requested", "tool.authorized", "tool.started", "tool.failed"])

            let missingRef = await h.call("dbt.create_model", [
                "project": "analytics", "name": "broken", "sql": "select * from {{ ref('not_built_yet') }}", "description": "x",
            ], as: "user:dana", agent: "agent:modeler")
            #expect(missingRef.errorType == "sql_error")
            #expect(text(workspace, "analytics/models/broken.sql") == nil)
            #expect(text(workspace, "analytics/models/schema.yml") == nil)
            await warehouse.remove()
        }

        @Test(arguments: TestWarehouse.engines)
        func onlyReadsBecomeModels(engine: SQLEngine) async throws {
            guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)) else { return }
            let workspace = try makeWorkspace(warehouse)
            let h = try await makeHarness(policy: docsPolicy, environment: warehouse.environment(workspace: workspace))
            defer { h.remove() }

            let delete = await h.call("dbt.create_model", [
                "project": "analytics", "name": "wipe", "sql": "delete from {{ ref('orders') }}", "description": "x",
            ], as: "user:dana")
            #expect(delete.stage == "guardrail")
            #expect(delete.rule == "sql.read_only")
            let explain = await h.call("dbt.create_model", [
                "project": "analytics", "name": "plan", "sql": "explain select * from orders", "description": "x",
            ], as: "user:dana")
            #expect(explain.stage == "guardrail")
            #expect(explain.rule == "dbt.model_select")
            let jinja = await h.call("dbt.create_model", [
                "project": "analytics", "name": "loop", "sql": "{% for x in [1] %}select 1{% endfor %}", "description": "x",
            ], as: "user:dana")
            #expect(jinja.stage == "validation")
            #expect(jinja.message?.contains("not supported") == true)
            #expect(try await warehouse.rows("SELECT count(*) FROM orders") == [[.integer(5)]])
            #expect(FileManager.default.subpaths(atPath: workspace.root.appendingPathComponent("analytics/models").path) == [])
            await warehouse.remove()
        }

        @Test(arguments: TestWarehouse.engines)
        func projectsAndRightsAreChecked(engine: SQLEngine) async throws {
            guard let warehouse = try await TestWarehouse.make(engine, ShopFixture.statements(engine)) else { return }
            let workspace = try makeWorkspace(warehouse)
            let h = try await makeHarness(policy: docsPolicy, environment: warehouse.environment(workspace: workspace))
            defer { h.remove() }

            let noProject = await h.call("dbt.create_model", [
                "project": "docs", "name": "m", "sql": "select 1 as one", "description": "x",
            ], as: "user:dana")
            #expect(noProject.status == .failed)
            #expect(noProject.errorType == "not_found")
            #expect(noProject.message?.contains("dbt_project.yml") == true)

            let outside = await h.call("dbt.create_model", [
                "project": "../elsewhere", "name": "m", "sql": "select 1 as one", "description": "x",
            ], as: "user:dana")
            #expect(outside.stage == "guardrail")
            #expect(outside.rule == "file.outside_workspace")

            // The model reads `customers`, which the caller may not read.
            let unreadable = await h.call("dbt.create_model", [
                "project": "analytics", "name": "m", "sql": "select * from {{ ref('orders') }}", "description": "x",
            ], as: "user:carl")
            #expect(unreadable.stage == "authorization")
            #expect(unreadable.message?.contains("dbt:write") == true || unreadable.message?.contains(warehouse.resource("orders")) == true)
            await warehouse.remove()
        }
    }
}
