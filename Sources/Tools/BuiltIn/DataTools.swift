/// The built-in tools over SQL databases and the catalog, and the docs and dbt tools built on them.
enum DataTools {
    static let all: [any Tool] = [
        SQLQueryTool(), SQLExecuteTool(),
        CatalogListTablesTool(), CatalogDescribeTableTool(), CatalogSearchTool(),
        ProfileTableTool(), TableDocTool(), DbtCreateModelTool(),
    ]
}
