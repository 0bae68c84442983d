import Foundation
import Security

/// `chart.render`: a bar or line chart as SVG, from rows shaped like `sql.query`'s result
/// (`{columns: [{name, type}], rows: [[…]]}`; plain column names work too).
///
/// Without `path` it returns the SVG text and needs `chart:render` on `chart`. With `path` it writes
/// the SVG into the workspace (replacing a file that is there) and needs `chart:render` and
/// `file:write` on `workspace:<path>`; the path is checked like `file.write`'s.
struct ChartRenderTool: Tool {
    let name = "chart.render"
    let description = "Draws a bar or line chart as SVG from query rows ({columns, rows}, as sql.query returns them): `x` names the category column, `y` one or more numeric columns. Returns the SVG, or writes it to `path` in the workspace."
    let inputSchema = try! JSONSchema([
        "type": "object",
        "properties": [
            "kind": ["type": "string", "enum": ["bar", "line"]],
            "title": ["type": "string", "maxLength": 200],
            "x": ["type": "string", "minLength": 1, "description": "Column with the categories (x axis)."],
            "y": ["type": ["string", "array"], "items": ["type": "string", "minLength": 1], "minItems": 1, "maxItems": 10,
                  "description": "Numeric column, or columns (one series each)."],
            "data": [
                "type": "object",
                "properties": [
                    "columns": ["type": "array", "items": ["type": ["object", "string"]], "minItems": 1],
                    "rows": ["type": "array", "items": ["type": "array"]],
                ],
                "required": ["columns", "rows"],
                "description": "The rows to draw: sql.query's output can be passed as is.",
            ],
            "width": ["type": "integer", "minimum": 200, "maximum": 4000, "default": 800],
            "height": ["type": "integer", "minimum": 150, "maximum": 3000, "default": 450],
            "path": ["type": "string", "minLength": 1, "pattern": "\\.svg$", "description": "Write the SVG here (relative to the workspace root, ending in .svg) instead of returning it."],
        ],
        "required": ["kind", "x", "y", "data"],
        "additionalProperties": false,
    ])
    let risk = RiskClass.read
    var rateLimit: RateLimit? { RateLimit(capacity: 60, period: .seconds(60)) }

    /// Most bars or points one chart draws.
    static let maxPoints = 10_000

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        _ = try Self.spec(input)
        guard let path = input["path"]?.string else {
            return ToolPlan(permissions: [Permission("chart:render", on: "chart")], risk: .read)
        }
        let confined = try call.environment.requireWorkspace().confine(path, for: .write)
        return ToolPlan(permissions: [Permission("chart:render", on: confined.resource), Permission("file:write", on: confined.resource)],
                        risk: .write, violation: confined.violation)
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let chart = try Self.spec(input)
        let svg = ChartSVG.render(chart)
        let bytes = Data(svg.utf8)
        var output: [String: JSONValue] = [
            "kind": .string(chart.kind.rawValue), "series": .array(chart.series.map { .string($0.name) }),
            "categories": .integer(Int64(chart.categories.count)), "bytes": .integer(Int64(bytes.count)),
        ]
        if let path = input["path"]?.string {
            let workspace = try context.environment.requireWorkspace()
            let target = try workspace.confineAgain(path, for: .write, authorized: context.plan)
            guard bytes.count <= workspace.maxFileBytes else {
                throw ToolError("too_large", "the chart is \(bytes.count) bytes, over the workspace limit of \(workspace.maxFileBytes); draw fewer rows")
            }
            _ = try WorkspaceFiles.write(target, data: bytes, mode: .overwrite, maxFileBytes: workspace.maxFileBytes)
            output["path"] = .string(target.resolved)
        } else {
            output["svg"] = .string(svg)
        }
        return ToolOutput(.object(output))
    }

    /// The chart the input describes, or an error naming the column or row that is wrong.
    static func spec(_ input: JSONValue) throws(ToolError) -> ChartSpec {
        let columns: [String] = (input["data"]?["columns"]?.array ?? []).map { $0.string ?? $0["name"]?.string ?? "" }
        let rows = input["data"]?["rows"]?.array ?? []
        let x = input["x"]?.string ?? ""
        let ys = input["y"]?.string.map { [$0] } ?? input["y"]?.array?.compactMap(\.string) ?? []
        func index(of column: String) throws(ToolError) -> Int {
            guard let index = columns.firstIndex(of: column) else {
                throw .invalidInput("the data has no column `\(column)`; its columns are \(columns.map { "`\($0)`" }.joined(separator: ", "))")
            }
            return index
        }
        let xIndex = try index(of: x)
        var yIndexes: [Int] = []
        for y in ys { yIndexes.append(try index(of: y)) }
        guard rows.count * max(1, ys.count) <= maxPoints else {
            throw .invalidInput("\(rows.count) rows × \(ys.count) series is more than the \(maxPoints) points a chart draws; aggregate the data first (GROUP BY)")
        }
        var categories: [String] = []
        var series = ys.map { ChartSpec.Series(name: $0, values: []) }
        for (r, row) in rows.enumerated() {
            guard let cells = row.array, cells.count == columns.count else {
                throw .invalidInput("row \(r) has \(row.array?.count ?? 0) values but there are \(columns.count) columns")
            }
            categories.append(label(cells[xIndex]))
            for (s, yIndex) in yIndexes.enumerated() {
                series[s].values.append(try number(cells[yIndex], column: ys[s], row: r))
            }
        }
        return ChartSpec(kind: ChartSpec.Kind(rawValue: input["kind"]?.string ?? "") ?? .bar, title: input["title"]?.string ?? "",
                         xLabel: x, categories: categories, series: series,
                         width: Int(input["width"]?.integer ?? 800), height: Int(input["height"]?.integer ?? 450))
    }

    private static func label(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): s
        case .null: "(null)"
        default: value.jsonText
        }
    }

    /// A cell as a number: JSON numbers, and text that reads as one (databases return decimals as text).
    private static func number(_ value: JSONValue, column: String, row: Int) throws(ToolError) -> Double? {
        switch value {
        case .null: return nil
        case .integer, .number: return value.double.flatMap { $0.isFinite ? $0 : nil }
        case .string(let text):
            if let number = Double(text.trimmingCharacters(in: .whitespaces)), number.isFinite { return number }
            if text.isEmpty || ["NaN", "Infinity", "-Infinity"].contains(text) { return nil }
            throw .invalidInput("column `\(column)` row \(row) is `\(text.prefix(40))`, not a number; chart numeric columns as `y`")
        default:
            throw .invalidInput("column `\(column)` row \(row) is a \(value.typeName), not a number; chart numeric columns as `y`")
        }
    }
}
