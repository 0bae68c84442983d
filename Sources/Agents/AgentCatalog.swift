import Foundation

/// The agents a deployment offers: the four built-in ones, plus definitions from a folder of
/// YAML files, which replace a built-in of the same name.
///
/// ```swift
/// let catalog = try AgentCatalog.load(folder: "agents")   // or AgentCatalog.builtIn
/// let analyst = try catalog.definition("analyst")
/// ```
public struct AgentCatalog: Sendable {
    public private(set) var definitions: [String: AgentDefinition]

    public init(_ definitions: [AgentDefinition]) {
        self.definitions = Dictionary(definitions.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// Agent names, sorted.
    public var names: [String] { definitions.keys.sorted() }

    /// The definition called `name`, or an error listing the agents there are.
    public func definition(_ name: String) throws(AgentDefinitionError) -> AgentDefinition {
        guard let definition = definitions[name] else {
            throw AgentDefinitionError(file: "agents", line: nil, column: nil,
                                       message: "there is no agent named `\(name)`; known agents: \(names.joined(separator: ", "))")
        }
        return definition
    }

    /// The built-in agents: analyst, documenter, engineer and reporter.
    public static let builtIn = AgentCatalog(BuiltInAgents.yaml.map { name, text in
        // The texts are part of the program and covered by tests, so they always parse.
        (try? AgentDefinition(yaml: text, source: "built-in:\(name)"))!
    })

    /// The built-ins, with every `*.yaml`/`*.yml` file in `folder` added (replacing a built-in of the same name).
    public static func load(folder: String?) throws(AgentDefinitionError) -> AgentCatalog {
        var catalog = builtIn
        guard let folder else { return catalog }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw AgentDefinitionError(file: folder, line: nil, column: nil,
                                       message: "no such folder of agent definitions; create it or fix `agents:` in the configuration")
        }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        for file in files {
            let path = folder + "/" + file
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw AgentDefinitionError(file: path, line: nil, column: nil, message: "cannot read the file as UTF-8 text")
            }
            let definition = try AgentDefinition(yaml: text, source: path)
            catalog.definitions[definition.name] = definition
        }
        return catalog
    }

    /// The YAML text of a built-in agent, to copy and adapt.
    public static func builtInYAML(_ name: String) -> String? {
        BuiltInAgents.yaml.first { $0.0 == name }?.1
    }
}

enum BuiltInAgents {
    static let yaml: [(String, String)] = [
        ("analyst", """
        name: analyst
        description: Answers data questions with the catalog and read-only SQL
        instructions: |
          You are a careful data analyst working on the company's warehouse.
          Find the relevant tables with catalog.search or catalog.list_tables and read their columns with
          catalog.describe_table before you write SQL. Run read-only queries with sql.query, one statement each,
          with a LIMIT when the result could be large. Answer in a few sentences with the numbers you found
          and the query you used. If the data cannot answer the question, say so.
        tools: [catalog.list_tables, catalog.describe_table, catalog.search, sql.query, profile.table]
        grants:
          - action: [sql:read, catalog:read]
            resource: "*"
        budget:
          max_steps: 12
          max_tokens: 100000
          max_cost_usd: 1.0
          max_wall_seconds: 300
        """),
        ("documenter", """
        name: documenter
        description: Documents tables from the catalog and profiles, and writes the docs to the workspace
        instructions: |
          You document warehouse tables. For each table you are asked about, read its columns with
          catalog.describe_table and its shape with profile.table, then write a short description of the
          table and each column with docs.write_table_doc. Describe what the data means, not how it is stored.
        tools: [catalog.list_tables, catalog.describe_table, catalog.search, profile.table, docs.write_table_doc, file.read, file.list]
        grants:
          - action: [catalog:read, sql:read, file:read, file:write]
            resource: "*"
        budget:
          max_steps: 30
          max_tokens: 200000
          max_wall_seconds: 600
        """),
        ("engineer", """
        name: engineer
        description: Writes dbt models for the warehouse and commits them to git
        instructions: |
          You are an analytics engineer. Understand the source tables with the catalog tools and small
          sql.query samples, write the model with dbt.create_model (SQL plus a description), check the
          workspace with git.status and git.diff, and commit with git.commit and a clear message.
          Never change data in the warehouse.
        tools: [catalog.list_tables, catalog.describe_table, catalog.search, sql.query, dbt.create_model, file.read, file.list, git.status, git.diff, git.commit]
        grants:
          - action: [catalog:read, sql:read, dbt:write, file:read, file:write, git:read, git:commit]
            resource: "*"
        budget:
          max_steps: 30
          max_tokens: 200000
          max_wall_seconds: 900
        """),
        ("reporter", """
        name: reporter
        description: Turns query results into charts and sends them by email
        instructions: |
          You prepare short reports. Query the numbers with sql.query, draw them with chart.render, and
          send the report with email.send to the recipients you were given: a few sentences, the chart
          attached. Do not send to anyone else.
        tools: [catalog.search, catalog.describe_table, sql.query, chart.render, email.send, file.read]
        grants:
          - action: [catalog:read, sql:read, chart:render, file:read, file:write, email:send]
            resource: "*"
        budget:
          max_steps: 15
          max_tokens: 100000
          max_wall_seconds: 600
        """),
    ]
}
