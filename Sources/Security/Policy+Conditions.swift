import Foundation

/// The facts a condition is tested against: the principal after the policy's roles and
/// attributes were merged in, and the request's resource attributes, context and time.
struct ConditionFacts {
    var principal: Principal
    var resourceAttributes: [String: String]
    var context: [String: String]
    var time: Date

    /// `principal.id` and `principal.kind` are always there unless an attribute of that name overrides them.
    func value(_ condition: AttributeCondition) -> String? {
        switch condition.scope {
        case .principal:
            if let value = principal.attributes[condition.name] { return value }
            switch condition.name {
            case "id": return principal.id
            case "kind": return principal.kind.rawValue
            default: return nil
            }
        case .resource: return resourceAttributes[condition.name]
        case .context: return context[condition.name]
        }
    }
}

/// All must hold (a `when:` or `unless:` mapping).
struct Conditions: Sendable {
    var attributes: [AttributeCondition] = []
    var time: TimeWindow?

    var isEmpty: Bool { attributes.isEmpty && time == nil }

    /// Nil when every condition holds; otherwise what failed, e.g. "principal.team is marketing, not one of data, finance".
    func failure(_ facts: ConditionFacts) -> String? {
        for condition in attributes {
            guard let value = facts.value(condition) else { return "\(condition.key) is not set" }
            if !condition.values.contains(value) {
                return "\(condition.key) is \(value), not \(condition.expectation)"
            }
        }
        return time?.failure(at: facts.time)
    }

    /// "principal.clearance is pii and the time is within 08:00-18:00 UTC".
    var summary: String {
        (attributes.map { "\($0.key) is \($0.expectation)" } + [time.map { "the time is within \($0.text)" }].compactMap { $0 })
            .joined(separator: " and ")
    }
}

struct AttributeCondition: Sendable {
    enum Scope: String, Sendable {
        case principal, resource, context
    }

    var scope: Scope
    var name: String
    /// The value must be one of these.
    var values: [String]

    var key: String { "\(scope.rawValue).\(name)" }
    var expectation: String { values.count == 1 ? values[0] : "one of \(values.joined(separator: ", "))" }
}

/// A daily window in a time zone, optionally on some weekdays only. `22:00-06:00` wraps past midnight;
/// the start is inside the window, the end is not. Days are those of the request's local date.
struct TimeWindow: Sendable {
    /// Minutes after midnight.
    var start: Int
    var end: Int
    /// Calendar weekdays, 1 = Sunday; nil means every day.
    var days: Set<Int>?
    var timeZone: TimeZone
    /// The zone as the policy names it (Foundation may report `UTC` as `GMT`).
    var zoneName: String
    /// As people read it: "08:00-18:00 UTC on mon, tue".
    var text: String

    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    func failure(at date: Date) -> String? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.hour, .minute, .weekday], from: date)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let clock = String(format: "%02d:%02d", minute / 60, minute % 60)
        let weekday = parts.weekday ?? 1
        if let days, !days.contains(weekday) {
            return "the day (\(Self.dayNames[weekday - 1])) is outside \(text)"
        }
        let inside = start < end ? (start <= minute && minute < end) : (minute >= start || minute < end)
        return inside ? nil : "the time (\(clock) \(zoneName)) is outside \(text)"
    }

    /// Parses `HH:MM-HH:MM`; the end may be `24:00`. Nil when malformed or empty.
    static func minutes(_ text: String) -> (start: Int, end: Int)? {
        let halves = text.split(separator: "-", omittingEmptySubsequences: false)
        guard halves.count == 2, let start = clock(halves[0].trimmingCharacters(in: .whitespaces)),
              let end = clock(halves[1].trimmingCharacters(in: .whitespaces)), start != end, start < 24 * 60 else { return nil }
        return (start, end)
    }

    private static func clock(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let hour = Int(parts[0]), let minute = Int(parts[1]), (0..<60).contains(minute) else { return nil }
        guard (0..<24).contains(hour) || (hour == 24 && minute == 0) else { return nil }
        return hour * 60 + minute
    }
}
