import Foundation
import GlassboxProto

/// The OTLP resource every batch carries: who sent the telemetry (`service.name` …).
///
/// ```swift
/// let (resource, warnings) = TelemetryResource.fromEnvironment(ProcessInfo.processInfo.environment)
/// ```
public struct TelemetryResource: Sendable, Equatable {
    /// Attributes in the order they were given; keys are unique.
    public private(set) var attributes: [(key: String, value: String)]

    public static func == (lhs: TelemetryResource, rhs: TelemetryResource) -> Bool {
        lhs.attributes.elementsEqual(rhs.attributes) { $0.key == $1.key && $0.value == $1.value }
    }

    public init(attributes: [(key: String, value: String)] = []) {
        self.attributes = []
        for attribute in attributes { set(attribute.key, attribute.value) }
        if value(of: "service.name") == nil { set("service.name", "glassbox") }
    }

    public func value(of key: String) -> String? {
        attributes.first { $0.key == key }?.value
    }

    public mutating func set(_ key: String, _ value: String) {
        if let index = attributes.firstIndex(where: { $0.key == key }) {
            attributes[index].value = value
        } else {
            attributes.append((key, value))
        }
    }

    /// The resource from `OTEL_RESOURCE_ATTRIBUTES` (`k=v,k2=v2`, percent-encoded) and
    /// `OTEL_SERVICE_NAME`, which wins. As the specification asks, a value that cannot be
    /// decoded is discarded whole; the warning says why.
    public static func fromEnvironment(_ environment: [String: String]) -> (TelemetryResource, warnings: [String]) {
        var attributes: [(key: String, value: String)] = []
        var warnings: [String] = []
        if let text = environment["OTEL_RESOURCE_ATTRIBUTES"], !text.trimmingCharacters(in: .whitespaces).isEmpty {
            switch KeyValueText.parse(text) {
            case .success(let pairs): attributes = pairs
            case .failure(let problem):
                warnings.append("OTEL_RESOURCE_ATTRIBUTES ignored: \(problem); write it as key=value,key2=value2 with , and = percent-encoded")
            }
        }
        var resource = TelemetryResource(attributes: attributes)
        if let name = environment["OTEL_SERVICE_NAME"]?.trimmingCharacters(in: .whitespaces), !name.isEmpty {
            resource.set("service.name", name)
        }
        return (resource, warnings)
    }

    var otlp: Opentelemetry_Proto_Resource_V1_Resource {
        var resource = Opentelemetry_Proto_Resource_V1_Resource()
        var list = AttributeList()
        for attribute in attributes { list.add(attribute.key, attribute.value) }
        resource.attributes = list.otlp
        return resource
    }

    /// The instrumentation scope of everything Glassbox exports.
    static let scope: Opentelemetry_Proto_Common_V1_InstrumentationScope = {
        var scope = Opentelemetry_Proto_Common_V1_InstrumentationScope()
        scope.name = "glassbox"
        scope.version = TelemetryResource.glassboxVersion
        return scope
    }()

    public static let glassboxVersion = "0.4.0"
}

/// The `key=value,key2=value2` lists of OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS.
enum KeyValueText {
    enum Problem: Error, CustomStringConvertible {
        case missingEquals(String)
        case emptyKey(String)
        case badPercentEncoding(String)

        var description: String {
            switch self {
            case .missingEquals(let item): "`\(item)` has no `=`"
            case .emptyKey(let item): "`\(item)` has an empty key"
            case .badPercentEncoding(let item): "`\(item)` is not valid percent-encoding"
            }
        }
    }

    static func parse(_ text: String) -> Result<[(key: String, value: String)], Problem> {
        var pairs: [(key: String, value: String)] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: true) {
            let trimmed = item.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "=") else { return .failure(.missingEquals(trimmed)) }
            let rawKey = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            let rawValue = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !rawKey.isEmpty else { return .failure(.emptyKey(trimmed)) }
            guard let key = rawKey.removingPercentEncoding, let value = rawValue.removingPercentEncoding else {
                return .failure(.badPercentEncoding(trimmed))
            }
            pairs.append((key, value))
        }
        return .success(pairs)
    }
}
