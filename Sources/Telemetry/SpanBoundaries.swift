/// Which events open and close spans (DESIGN.md, "Spans from events"). A span is opened
/// by one event and closed by another carrying the same span id; events in between with
/// that span id become the span's events.
public enum SpanRole: String, Sendable, CaseIterable {
    case mission, step, run, llm, tool

    /// The role of the span `type` opens, or nil.
    public static func opened(by type: String) -> SpanRole? {
        switch type {
        case "mission.started": .mission
        case "step.started": .step
        case "run.started": .run
        case "llm.requested": .llm
        case "tool.requested": .tool
        default: nil
        }
    }

    /// The role of the span `type` closes, or nil. A step attempt that fails and is
    /// retried ends with `step.retry_scheduled`; the next attempt is a new span.
    public static func closed(by type: String) -> SpanRole? {
        switch type {
        case "mission.completed", "mission.failed": .mission
        case "step.completed", "step.failed", "step.retry_scheduled": .step
        case "run.completed", "run.failed", "run.cancelled": .run
        case "llm.responded": .llm
        case "tool.completed", "tool.failed", "tool.denied": .tool
        default: nil
        }
    }
}
