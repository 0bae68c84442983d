public import SwiftProtobuf
import GlassboxProto
import Foundation

/// A payload message of an event type: any message generated from `proto/glassbox/v1`.
public typealias EventPayload = SwiftProtobuf.Message

/// The one table that maps each event type to its payload message.
///
/// Types are `noun.verb-in-past-tense`. Extend the table, never repurpose an entry:
/// logs written years ago must still decode.
///
/// ```swift
/// EventCatalog.messageType(for: "tool.denied")   // Glassbox_V1_ToolDenied.self
/// ```
public enum EventCatalog {
    /// Every known event type and its payload message, in a stable, documented order.
    public static let entries: [(type: String, message: any EventPayload.Type)] = [
        ("run.started", Glassbox_V1_RunStarted.self),
        ("run.completed", Glassbox_V1_RunCompleted.self),
        ("run.failed", Glassbox_V1_RunFailed.self),
        ("run.cancelled", Glassbox_V1_RunCancelled.self),
        ("run.stop_requested", Glassbox_V1_RunStopRequested.self),
        ("run.resumed", Glassbox_V1_RunResumed.self),
        ("llm.requested", Glassbox_V1_LlmRequested.self),
        ("llm.responded", Glassbox_V1_LlmResponded.self),
        ("agent.thought", Glassbox_V1_AgentThought.self),
        ("tool.requested", Glassbox_V1_ToolRequested.self),
        ("tool.authorized", Glassbox_V1_ToolAuthorized.self),
        ("tool.denied", Glassbox_V1_ToolDenied.self),
        ("tool.started", Glassbox_V1_ToolStarted.self),
        ("tool.completed", Glassbox_V1_ToolCompleted.self),
        ("tool.failed", Glassbox_V1_ToolFailed.self),
        ("guardrail.blocked", Glassbox_V1_GuardrailBlocked.self),
        ("approval.requested", Glassbox_V1_ApprovalRequested.self),
        ("approval.granted", Glassbox_V1_ApprovalGranted.self),
        ("approval.rejected", Glassbox_V1_ApprovalRejected.self),
        ("mission.started", Glassbox_V1_MissionStarted.self),
        ("mission.completed", Glassbox_V1_MissionCompleted.self),
        ("mission.failed", Glassbox_V1_MissionFailed.self),
        ("step.scheduled", Glassbox_V1_StepScheduled.self),
        ("step.started", Glassbox_V1_StepStarted.self),
        ("step.retry_scheduled", Glassbox_V1_StepRetryScheduled.self),
        ("step.completed", Glassbox_V1_StepCompleted.self),
        ("step.failed", Glassbox_V1_StepFailed.self),
        ("worker.spawned", Glassbox_V1_WorkerSpawned.self),
        ("worker.exited", Glassbox_V1_WorkerExited.self),
        ("api.called", Glassbox_V1_ApiCalled.self),
        ("auth.failed", Glassbox_V1_AuthFailed.self),
        ("policy.loaded", Glassbox_V1_PolicyLoaded.self),
        ("audit.queried", Glassbox_V1_AuditQueried.self),
        ("export.rejected", Glassbox_V1_ExportRejected.self),
    ]

    /// All known event types, in table order.
    public static let allTypes: [String] = entries.map(\.type)

    private static let messageByType: [String: any EventPayload.Type] = Dictionary(
        uniqueKeysWithValues: entries.map { ($0.type, $0.message) })
    private static let typeByMessageName: [String: String] = Dictionary(
        uniqueKeysWithValues: entries.map { ($0.message.protoMessageName, $0.type) })

    /// The payload message of `type`, or nil when the type is unknown.
    public static func messageType(for type: String) -> (any EventPayload.Type)? {
        messageByType[type]
    }

    /// The event type whose payload is `payload`'s message, or nil.
    public static func eventType(of payload: some EventPayload) -> String? {
        typeByMessageName[type(of: payload).protoMessageName]
    }

    /// Decodes the stored JSON of an event into its payload message.
    /// Unknown fields are ignored so that logs written by newer versions still read.
    public static func decodePayload(of event: Event) throws -> any EventPayload {
        guard let message = messageByType[event.type] else {
            throw EventLogError.unknownEventType(event.type, known: allTypes)
        }
        return try message.init(jsonString: event.data, options: readingOptions)
    }

    static let readingOptions: JSONDecodingOptions = {
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        return options
    }()

    static func canonicalJSON(of payload: some EventPayload, type: String) throws -> String {
        do {
            return try payload.jsonString()
        } catch {
            throw EventLogError.invalidPayload(type: type, problem: "it cannot be written as JSON (\(error))")
        }
    }

    /// Validates `json` against the payload message of `type` and returns its canonical proto3 JSON.
    static func canonicalJSON(type: String, json: String) throws -> String {
        guard let message = messageByType[type] else {
            throw EventLogError.unknownEventType(type, known: allTypes)
        }
        // Foundation's parser names the position of a syntax error; SwiftProtobuf's does not.
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])
        } catch {
            throw EventLogError.invalidJSON(problem: describeSyntaxError(error))
        }
        guard object is [String: Any] else {
            throw EventLogError.invalidPayload(type: type, problem: "the data must be a JSON object, like {\"field\": value}")
        }
        let decoded: any EventPayload
        do {
            decoded = try message.init(jsonString: json)
        } catch let error as JSONDecodingError {
            throw EventLogError.invalidPayload(type: type, problem: describe(error, message: message))
        } catch {
            throw EventLogError.invalidPayload(type: type, problem: "\(error)")
        }
        return try canonicalJSON(of: decoded, type: type)
    }

    /// The payload fields of `type` as lowerCamelCase JSON names, for help and error messages.
    public static func fieldNames(of type: String) -> [String] {
        guard let message = messageByType[type] else { return [] }
        return jsonFieldNames(of: message)
    }

    private static func jsonFieldNames(of message: any EventPayload.Type) -> [String] {
        (payloadFieldTable[message.protoMessageName] ?? []).map(\.name)
    }

    /// The payload fields of `type` with their proto types, e.g. `("tokens", "uint32")`.
    public static func fields(of type: String) -> [(name: String, type: String)] {
        guard let message = messageByType[type] else { return [] }
        return payloadFieldTable[message.protoMessageName] ?? []
    }

    private static func describe(_ error: JSONDecodingError, message: any EventPayload.Type) -> String {
        let fields = jsonFieldNames(of: message).joined(separator: ", ")
        switch error {
        case .unknownField(let name):
            return "it has no field '\(name)'; its fields are: \(fields)"
        case .malformedNumber, .numberRange:
            return "a number field has a value that is not a number in range; its fields are: \(fields)"
        case .schemaMismatch, .malformedBool, .malformedString, .malformedMap:
            return "a value has the wrong type (\(error)); its fields are: \(fields)"
        default:
            return "\(error); its fields are: \(fields)"
        }
    }

    private static func describeSyntaxError(_ error: any Error) -> String {
        let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
        return text.trimmingCharacters(in: CharacterSet(charactersIn: ". "))
    }
}
