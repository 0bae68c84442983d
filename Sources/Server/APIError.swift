public import HTTPTypes
public import Hummingbird
import NIOCore
import EventLog
import Foundation
import Logging

/// An error the API returns as `{"error": {"code", "message"}}` with its HTTP status.
/// The message says what was wrong and what to do instead.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    /// For 405: the methods the route takes, sent as `Allow`.
    public let allow: String?

    public init(_ status: HTTPResponse.Status, code: String, _ message: String, allow: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.allow = allow
    }

    public static func badRequest(_ message: String) -> APIError { APIError(.badRequest, code: "bad_request", message) }
    public static func notFound(_ message: String) -> APIError { APIError(.notFound, code: "not_found", message) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if let allow { headers[.allow] = allow }
        let body = #"{"error":{"code":\#(JSONText.string(code)),"message":\#(JSONText.string(message))}}"#
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// Turns every error a route throws into the API's JSON error shape, so that no client
/// ever sees a plain-text or empty error body.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as EventLogError {
            throw APIError.from(error)
        } catch let error as any HTTPResponseError {
            throw APIError.from(status: error.status, request: request)
        } catch is CancellationError {
            throw APIError(.serviceUnavailable, code: "shutting_down", "the server is shutting down; retry in a moment")
        } catch {
            context.logger.error("request failed: \(error)")
            throw APIError(.internalServerError, code: "internal", "the server failed: \(error). This is a bug; the log is unchanged unless the response said otherwise.")
        }
    }
}

extension APIError {
    static func from(status: HTTPResponse.Status, request: Request) -> APIError {
        switch status {
        case .notFound:
            return .notFound("no route \(request.method) \(request.uri.path); the API is under /api/v1 (see openapi.yaml)")
        case .methodNotAllowed:
            return APIError(.methodNotAllowed, code: "method_not_allowed", "\(request.method) is not allowed on \(request.uri.path)")
        case .contentTooLarge:
            return APIError(.contentTooLarge, code: "payload_too_large", "the request body is too large; send less than the server's max_body_bytes")
        case .badRequest:
            return .badRequest("the request could not be read: check its JSON body and parameters")
        default:
            return APIError(status, code: status.code >= 500 ? "internal" : "bad_request", status.reasonPhrase)
        }
    }

    static func from(_ error: EventLogError) -> APIError {
        switch error {
        case .auditRefused(let problem):
            // SQLite could not prepare it (syntax, unknown table): the query is wrong, not forbidden.
            let invalid = problem.hasPrefix("SQLite cannot run it") || problem == "the query is empty"
            return invalid
                ? APIError(.unprocessableContent, code: "query_invalid", "the query is not valid SQL for the log: \(problem). Tables: events (see GET /api/v1/types for payload fields).")
                : APIError(.unprocessableContent, code: "query_refused", error.description)
        case .auditTimedOut:
            return APIError(.unprocessableContent, code: "query_timeout", error.description)
        case .busy:
            return APIError(.serviceUnavailable, code: "busy", error.description)
        case .unknownEventType, .invalidJSON, .invalidPayload, .invalidStream, .invalidActor, .invalidTraceContext, .emptyAppend:
            return .badRequest(error.description)
        case .versionConflict, .conflictingEventIDs:
            return APIError(.conflict, code: "conflict", error.description)
        default:
            return APIError(.internalServerError, code: "internal", error.description)
        }
    }
}

/// Query parameters read with errors that name the parameter and say what it must be.
struct QueryParameters {
    let values: [String: [String]]

    init(_ request: Request) {
        var values: [String: [String]] = [:]
        for (key, value) in request.uri.queryParameters {
            values[String(key), default: []].append(String(value))
        }
        self.values = values
    }

    func string(_ name: String) -> String? {
        values[name]?.last.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Every value of a parameter that may repeat or hold a comma-separated list.
    func list(_ name: String) -> [String] {
        (values[name] ?? []).flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
    }

    /// The values of a list parameter that must each be one of an enum's cases.
    func choices<Choice: RawRepresentable & CaseIterable>(_ name: String, of type: Choice.Type) throws -> [Choice] where Choice.RawValue == String {
        try list(name).map { text in
            guard let choice = Choice(rawValue: text) else {
                let allowed = Choice.allCases.map(\.rawValue).joined(separator: ", ")
                throw APIError.badRequest("query parameter `\(name)` must be one of \(allowed), not `\(text)`")
            }
            return choice
        }
    }

    func integer(_ name: String, default value: Int64? = nil, in range: ClosedRange<Int64>) throws -> Int64? {
        guard let text = string(name) else { return value }
        guard let number = Int64(text), range.contains(number) else {
            throw APIError.badRequest("query parameter `\(name)` must be a whole number from \(range.lowerBound) to \(range.upperBound), not `\(text)`")
        }
        return number
    }

    /// The event filter shared by /events and the streams: type, stream, trace_id, actor.
    func eventFilter() throws -> EventFilter {
        let traceID = string("trace_id")
        if let traceID, traceID.count != 32 || !traceID.allSatisfy(\.isHexDigit) {
            throw APIError.badRequest("query parameter `trace_id` must be 32 hexadecimal digits, not `\(traceID)`")
        }
        return EventFilter(stream: string("stream"), types: list("type"), traceID: traceID?.lowercased(), actor: string("actor"))
    }
}

extension Response {
    /// A JSON response from text already in JSON form.
    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
