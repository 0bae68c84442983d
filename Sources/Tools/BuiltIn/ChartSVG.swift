import Foundation

/// A chart to draw: categories along x, one or more numeric series.
struct ChartSpec: Sendable, Equatable {
    enum Kind: String, Sendable, CaseIterable { case bar, line }

    struct Series: Sendable, Equatable {
        var name: String
        /// One value per category; nil leaves a gap (no bar, a break in the line).
        var values: [Double?]
    }

    var kind: Kind
    var title: String
    var xLabel: String
    var categories: [String]
    var series: [Series]
    var width: Int = 800
    var height: Int = 450
}

/// Axis bounds and ticks at "nice" numbers (1, 2 or 5 times a power of ten), after Heckbert's
/// "Nice numbers for graph labels" (Graphics Gems, 1990).
struct NiceScale: Sendable, Equatable {
    let lower: Double
    let upper: Double
    let step: Double

    /// A scale covering `minimum...maximum` with about `tickCount` ticks.
    init(minimum: Double, maximum: Double, tickCount: Int = 6) {
        var low = minimum, high = maximum
        if low == high {
            // One value: give it room around it (or 0…1 for zero).
            let pad = low == 0 ? 1 : abs(low) * 0.5
            low -= low == 0 ? 0 : pad
            high += pad
        }
        let range = Self.nice(high - low, round: false)
        let step = Self.nice(range / Double(max(1, tickCount - 1)), round: true)
        self.step = step
        lower = (low / step).rounded(.down) * step
        upper = (high / step).rounded(.up) * step
    }

    /// The tick values from `lower` to `upper`, free of accumulated floating-point error.
    var ticks: [Double] {
        let count = Int(((upper - lower) / step).rounded()) + 1
        let decimals = max(0, -Int((log10(step)).rounded(.down)))
        let factor = pow(10, Double(min(decimals, 12)))
        return (0..<count).map { ((lower + Double($0) * step) * factor).rounded() / factor }
    }

    static func nice(_ value: Double, round: Bool) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        let exponent = log10(value).rounded(.down)
        let fraction = value / pow(10, exponent)
        let niceFraction: Double
        if round {
            niceFraction = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        } else {
            niceFraction = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        }
        return niceFraction * pow(10, exponent)
    }

    /// Tick labels: the decimals the step needs, and k/M/B for large values.
    func label(_ value: Double) -> String {
        let largest = max(abs(lower), abs(upper))
        let (divisor, suffix): (Double, String) = largest >= 1e9 ? (1e9, "B") : largest >= 1e6 ? (1e6, "M") : largest >= 1e4 ? (1e3, "k") : (1, "")
        let scaledStep = step / divisor
        let decimals = scaledStep >= 1 ? 0 : min(12, -Int(log10(scaledStep).rounded(.down)))
        let scaled = value / divisor
        let text = String(format: "%.\(decimals)f", scaled == 0 ? 0 : scaled)
        return text + (value == 0 ? "" : suffix)
    }
}

/// Renders a ``ChartSpec`` as a standalone SVG document: title, axes, gridlines and ticks at nice
/// numbers, category labels, bars or lines, a legend when there are several series, and a `<title>`
/// tooltip on every bar and point. All text is XML-escaped.
enum ChartSVG {
    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

    static func render(_ chart: ChartSpec) -> String {
        let values = chart.series.flatMap { $0.values.compactMap { $0 } }
        var low = values.min() ?? 0, high = values.max() ?? 1
        if chart.kind == .bar { low = min(low, 0); high = max(high, 0) }
        let scale = NiceScale(minimum: low, maximum: high)
        let tickLabels = scale.ticks.map { (value: $0, text: scale.label($0)) }

        let width = Double(chart.width), height = Double(chart.height)
        let several = chart.series.count > 1
        let titleBand = chart.title.isEmpty ? 12.0 : 36.0
        let legendBand = several ? 22.0 : 0
        let top = titleBand + legendBand + 10
        let yTitle = several ? 0.0 : 18
        let left = max(40, Double(tickLabels.map(\.text.count).max() ?? 1) * 7 + 16) + yTitle
        let bottom = 48.0
        let right = 20.0
        let plot = (x0: left, x1: max(left + 10, width - right), y0: top, y1: max(top + 10, height - bottom))
        let y = { (value: Double) -> Double in
            plot.y1 - (value - scale.lower) / (scale.upper - scale.lower) * (plot.y1 - plot.y0)
        }
        let count = max(1, chart.categories.count)
        let band = (plot.x1 - plot.x0) / Double(count)

        var svg = ""
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(chart.width)\" height=\"\(chart.height)\" viewBox=\"0 0 \(chart.width) \(chart.height)\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"\(escape(chart.title))\">\n"
        svg += "<title>\(escape(chart.title))</title>\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        if !chart.title.isEmpty {
            svg += "<text class=\"chart-title\" x=\"\(n(width / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">\(escape(chart.title))</text>\n"
        }

        // Gridlines and y ticks.
        svg += "<g class=\"y-axis\" fill=\"#444444\">\n"
        for tick in tickLabels {
            let ty = y(tick.value)
            svg += "<line class=\"grid\" x1=\"\(n(plot.x0))\" y1=\"\(n(ty))\" x2=\"\(n(plot.x1))\" y2=\"\(n(ty))\" stroke=\"#e5e5e5\"/>\n"
            svg += "<text x=\"\(n(plot.x0 - 6))\" y=\"\(n(ty + 4))\" text-anchor=\"end\">\(escape(tick.text))</text>\n"
        }
        svg += "<line x1=\"\(n(plot.x0))\" y1=\"\(n(plot.y0))\" x2=\"\(n(plot.x0))\" y2=\"\(n(plot.y1))\" stroke=\"#444444\"/>\n"
        if !several, let only = chart.series.first {
            svg += "<text class=\"axis-title\" transform=\"translate(14 \(n((plot.y0 + plot.y1) / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(only.name))</text>\n"
        }
        svg += "</g>\n"

        // X axis: the baseline, category labels (thinned so they do not overlap) and the axis title.
        let baseline = scale.lower <= 0 && scale.upper >= 0 ? y(0) : plot.y1
        let longest = min(20, chart.categories.map(\.count).max() ?? 1)
        let every = max(1, Int((Double(count) * (Double(longest) * 6.5 + 8) / (plot.x1 - plot.x0)).rounded(.up)))
        svg += "<g class=\"x-axis\" fill=\"#444444\">\n"
        svg += "<line x1=\"\(n(plot.x0))\" y1=\"\(n(baseline))\" x2=\"\(n(plot.x1))\" y2=\"\(n(baseline))\" stroke=\"#444444\"/>\n"
        for (index, category) in chart.categories.enumerated() where index % every == 0 {
            let label = category.count > 20 ? String(category.prefix(19)) + "…" : category
            svg += "<text x=\"\(n(plot.x0 + (Double(index) + 0.5) * band))\" y=\"\(n(plot.y1 + 16))\" text-anchor=\"middle\">\(escape(label))</text>\n"
        }
        svg += "<text class=\"axis-title\" x=\"\(n((plot.x0 + plot.x1) / 2))\" y=\"\(n(height - 10))\" text-anchor=\"middle\">\(escape(chart.xLabel))</text>\n"
        svg += "</g>\n"

        // The data.
        switch chart.kind {
        case .bar:
            let barWidth = band * 0.8 / Double(max(1, chart.series.count))
            for (s, series) in chart.series.enumerated() {
                svg += "<g class=\"series\" fill=\"\(palette[s % palette.count])\">\n"
                for (index, value) in series.values.enumerated() {
                    guard let value, index < chart.categories.count else { continue }
                    let x = plot.x0 + Double(index) * band + band * 0.1 + Double(s) * barWidth
                    let top = min(y(value), baseline), size = abs(y(value) - baseline)
                    svg += "<rect class=\"bar\" x=\"\(n(x))\" y=\"\(n(top))\" width=\"\(n(max(barWidth - 1, 1)))\" height=\"\(n(size))\"><title>\(escape(tooltip(chart, series, index, value)))</title></rect>\n"
                }
                svg += "</g>\n"
            }
        case .line:
            for (s, series) in chart.series.enumerated() {
                let color = palette[s % palette.count]
                var path = ""
                var drawing = false
                for (index, value) in series.values.enumerated() where index < chart.categories.count {
                    guard let value else { drawing = false; continue }
                    path += "\(drawing ? "L" : "M")\(n(plot.x0 + (Double(index) + 0.5) * band)) \(n(y(value))) "
                    drawing = true
                }
                svg += "<g class=\"series\">\n"
                svg += "<path class=\"line\" d=\"\(path.trimmingCharacters(in: .whitespaces))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
                for (index, value) in series.values.enumerated() where index < chart.categories.count {
                    guard let value else { continue }
                    svg += "<circle class=\"point\" cx=\"\(n(plot.x0 + (Double(index) + 0.5) * band))\" cy=\"\(n(y(value)))\" r=\"3\" fill=\"\(color)\"><title>\(escape(tooltip(chart, series, index, value)))</title></circle>\n"
                }
                svg += "</g>\n"
            }
        }

        if several {
            svg += "<g class=\"legend\">\n"
            var x = plot.x0
            for (s, series) in chart.series.enumerated() {
                let name = series.name.count > 30 ? String(series.name.prefix(29)) + "…" : series.name
                svg += "<rect x=\"\(n(x))\" y=\"\(n(titleBand + 4))\" width=\"12\" height=\"12\" fill=\"\(palette[s % palette.count])\"/>\n"
                svg += "<text x=\"\(n(x + 16))\" y=\"\(n(titleBand + 14))\">\(escape(name))</text>\n"
                x += 16 + Double(name.count) * 7 + 18
            }
            svg += "</g>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    private static func tooltip(_ chart: ChartSpec, _ series: ChartSpec.Series, _ index: Int, _ value: Double) -> String {
        let shown = value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        return chart.series.count > 1 ? "\(chart.categories[index]) · \(series.name): \(shown)" : "\(chart.categories[index]): \(shown)"
    }

    /// A coordinate with at most two decimals.
    private static func n(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    /// Text safe inside an element or a quoted attribute; characters XML 1.0 forbids are dropped.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out += " "
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: continue
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
