import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Security
import Testing
@testable import Tools

/// Parses SVG text as XML and counts elements by name and by `class`.
final class SVGCensus: NSObject, XMLParserDelegate {
    var elements: [String: Int] = [:]
    var classes: [String: Int] = [:]
    var texts: [String] = []
    private var current = ""

    static func parse(_ svg: String) throws -> SVGCensus {
        let census = SVGCensus()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = census
        guard parser.parse() else {
            throw MalformedXML(problem: parser.parserError.map { "\($0)" } ?? "unknown error")
        }
        return census
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        elements[name, default: 0] += 1
        if let c = attributes["class"] { classes[c, default: 0] += 1 }
        current = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" || name == "title" { texts.append(current) }
        current = ""
    }
}

struct MalformedXML: Error, CustomStringConvertible {
    var problem: String
    var description: String { "the SVG is not well-formed XML: \(problem)" }
}

/// Rows shaped like sql.query's output.
let revenueData: JSONValue = [
    "columns": [["name": "month", "type": "TEXT"], ["name": "revenue", "type": "REAL"], ["name": "cost", "type": "REAL"]],
    "rows": [["2025-01", 1200.5, 800], ["2025-02", 1830, 950], ["2025-03", "2410.25", 1020], ["2025-04", 990, .null]],
    "row_count": 4,
    "truncated": false,
]

extension ChartTests {
    @Suite struct Scale {
        @Test func roundsToNiceTicks() {
            let scale = NiceScale(minimum: 0, maximum: 97)
            #expect(scale.lower == 0)
            #expect(scale.upper == 100)
            #expect(scale.ticks == [0, 20, 40, 60, 80, 100])

            let small = NiceScale(minimum: 0.0012, maximum: 0.0047)
            #expect(small.step == 0.001)
            #expect(small.ticks.first == 0.001)
            #expect(small.ticks.last == 0.005)
            #expect(small.label(0.003) == "0.003")

            let negative = NiceScale(minimum: -3.2, maximum: 7.9)
            #expect(negative.ticks == [-5, 0, 5, 10])

            let flat = NiceScale(minimum: 5, maximum: 5)
            #expect(flat.lower < 5 && flat.upper > 5)
            #expect(NiceScale(minimum: 0, maximum: 0).upper > 0)
        }

        @Test func labelsLargeNumbersCompactly() {
            let millions = NiceScale(minimum: 0, maximum: 4_200_000)
            #expect(millions.label(1_000_000) == "1M")
            #expect(millions.label(0) == "0")
            #expect(NiceScale(minimum: 0, maximum: 45_000).label(10_000) == "10k")
            #expect(NiceScale(minimum: 0, maximum: 2e9).step == 500_000_000)
            #expect(NiceScale(minimum: 0, maximum: 2e9).label(1_500_000_000) == "1.5B")
        }
    }
}

@Suite struct ChartTests {
    @Test func aBarChartHasOneBarPerRowAndIsWellFormed() throws {
        let chart = try ChartRenderTool.spec(["kind": "bar", "title": "Revenue <by> month & \"more\"", "x": "month", "y": "revenue", "data": revenueData])
        let svg = ChartSVG.render(chart)
        let census = try SVGCensus.parse(svg)
        #expect(census.classes["bar"] == 4)
        #expect(census.elements["svg"] == 1)
        #expect(census.texts.contains("Revenue <by> month & \"more\""))
        #expect(census.texts.contains("2025-03"))
        #expect(census.texts.contains("revenue"))
        #expect(census.classes["legend"] == nil)
        #expect(svg.contains("Revenue &lt;by&gt; month &amp; &quot;more&quot;"))
        #expect(svg.contains("width=\"800\" height=\"450\""))
    }

    @Test func groupedBarsAndALegendForSeveralSeries() throws {
        let chart = try ChartRenderTool.spec(["kind": "bar", "title": "Revenue and cost", "x": "month", "y": ["revenue", "cost"], "data": revenueData,
                                              "width": 640, "height": 360])
        let census = try SVGCensus.parse(ChartSVG.render(chart))
        #expect(census.classes["bar"] == 7)  // 4 revenue + 3 cost (one null)
        #expect(census.classes["legend"] == 1)
        #expect(census.texts.contains("cost"))
    }

    @Test func aLineChartDrawsOnePathPerSeries() throws {
        let chart = try ChartRenderTool.spec(["kind": "line", "title": "Trend", "x": "month", "y": ["revenue", "cost"], "data": revenueData])
        let svg = ChartSVG.render(chart)
        let census = try SVGCensus.parse(svg)
        #expect(census.classes["line"] == 2)
        #expect(census.classes["point"] == 7)
        #expect(census.classes["bar"] == nil)
    }

    @Test func controlCharactersAndNegativeValuesStayWellFormed() throws {
        let data: JSONValue = ["columns": ["name", "delta"], "rows": [["a\u{1}\u{0B}b", -5], ["<c>", 3], ["d & e", 0]]]
        let chart = try ChartRenderTool.spec(["kind": "bar", "title": "Δ \u{7}", "x": "name", "y": "delta", "data": data])
        let census = try SVGCensus.parse(ChartSVG.render(chart))
        #expect(census.classes["bar"] == 3)
        #expect(census.texts.contains("<c>"))
    }

    @Test func badDataIsInvalidInput() {
        #expect(throws: ToolError.self) { try ChartRenderTool.spec(["kind": "bar", "x": "month", "y": "profit", "data": revenueData]) }
        #expect(throws: ToolError.self) {
            try ChartRenderTool.spec(["kind": "bar", "x": "revenue", "y": "month", "data": revenueData])
        }
        #expect(throws: ToolError.self) {
            try ChartRenderTool.spec(["kind": "bar", "x": "a", "y": "b", "data": ["columns": ["a", "b"], "rows": [["x"]]]])
        }
    }

    @Test func rendersThroughTheGuard() async throws {
        let fx = try WorkspaceFixture()
        defer { fx.remove() }
        let h = try await makeHarness(policy: allowAllPolicy, environment: fx.environment)
        defer { h.remove() }
        let inline = await h.call("chart.render", ["kind": "bar", "title": "Revenue", "x": "month", "y": "revenue", "data": revenueData], as: "user:alice")
        #expect(inline.status == .completed, "\(inline.message ?? "")")
        #expect(try SVGCensus.parse(try #require(inline.output?["svg"]?.string)).classes["bar"] == 4)
        #expect(try await h.eventTypes(of: inline.callID) == completedSequence)

        let saved = await h.call("chart.render", ["kind": "line", "title": "Revenue", "x": "month", "y": "revenue", "data": revenueData,
                                                  "path": "charts/revenue.svg"], as: "user:alice")
        #expect(saved.status == .completed, "\(saved.message ?? "")")
        #expect(saved.output?["path"] == "charts/revenue.svg")
        #expect(saved.output?["svg"] == nil)
        let written = try #require(fx.contents("charts/revenue.svg"))
        #expect(try SVGCensus.parse(written).classes["line"] == 1)

        let escape = await h.call("chart.render", ["kind": "bar", "x": "month", "y": "revenue", "data": revenueData, "path": "../outside/x.svg"], as: "user:alice")
        #expect(escape.rule == "file.outside_workspace")
        #expect(try await h.eventTypes(of: escape.callID) == blockedSequence)

        let notSVG = await h.call("chart.render", ["kind": "bar", "x": "month", "y": "revenue", "data": revenueData, "path": "x.html"], as: "user:alice")
        #expect(notSVG.stage == "validation")
        let badColumn = await h.call("chart.render", ["kind": "bar", "x": "month", "y": "nope", "data": revenueData], as: "user:alice")
        #expect(badColumn.stage == "validation")
        #expect(badColumn.message?.contains("`nope`") == true)
    }

    @Test func writingAChartNeedsFileWrite() async throws {
        let fx = try WorkspaceFixture()
        defer { fx.remove() }
        let policy = """
            version: 1
            roles:
              viewer: {grants: [{action: "chart:render", resource: "*"}]}
            principals:
              user:vic: {roles: [viewer]}
            """
        let h = try await makeHarness(policy: policy, environment: fx.environment)
        defer { h.remove() }
        let inline = await h.call("chart.render", ["kind": "bar", "x": "month", "y": "revenue", "data": revenueData], as: "user:vic")
        #expect(inline.status == .completed)
        let saved = await h.call("chart.render", ["kind": "bar", "x": "month", "y": "revenue", "data": revenueData, "path": "c.svg"], as: "user:vic")
        #expect(saved.stage == "authorization")
        #expect(fx.contents("c.svg") == nil)
    }
}
