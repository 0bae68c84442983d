import EventLog
import CoreMetrics
import Foundation
import GlassboxProto
import HTTPTypes
import Hummingbird
import NIOCore
import Projections
import Glassbox
import Prometheus
import SwiftProtobuf

extension GlassboxServer {
    /// The JSON API under /api/v1, /healthz and /metrics.
    func addAPIRoutes(to router: Router<GlassboxRequestContext>) {
        router.get("/healthz") { _, _ in
            let closing = feed.isClosing
            let status = closing ? "shutting_down" : "ok"
            return Response.json(#"{"status":"\#(status)","lastSeq":\#(feed.head)}"#, status: closing ? .serviceUnavailable : .ok)
        }

        router.get("/metrics") { _, _ in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16_384)
            metricsRegistry?.emit(into: &buffer)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }

        let api = router.group("/api/v1")

        api.get("/events") { request, _ in
            let query = QueryParameters(request)
            let after = try query.integer("after", default: 0, in: 0...Int64.max)!
            let limit = try query.integer("limit", default: 100, in: 1...1_000)!
            return try await eventPage(filter: try query.eventFilter(), after: after, limit: Int(limit))
        }

        api.get("/types") { _, _ in
            let types = EventCatalog.entries.map { entry in
                let fields = payloadFieldTable[entry.message.protoMessageName]?.map { JSONText.string($0.name) } ?? []
                return #"{"type":\#(JSONText.string(entry.type)),"fields":[\#(fields.joined(separator: ","))]}"#
            }
            return Response.json(#"{"types":[\#(types.joined(separator: ","))]}"#)
        }

        api.get("/stats") { _, _ in
            let head = try await log.lastSeq()
            let result = try await AuditQuery(path: log.path).run("SELECT type, COUNT(*) FROM events WHERE seq <= \(head) GROUP BY type ORDER BY type")
            let counts = result.rows.map { row in "\(JSONText.string(row[0].description)):\(row[1].description)" }
            return Response.json(#"{"lastSeq":\#(head),"eventsByType":{\#(counts.joined(separator: ","))}}"#)
        }

        api.get("/runs") { request, _ in
            let query = QueryParameters(request)
            let asOf = try query.integer("as_of", in: 0...Int64.max)
            let limit = Int(try query.integer("limit", default: 100, in: 1...1_000)!)
            let statuses = try query.choices("status", of: RunStatus.self)
            let agent = query.string("agent"), caller = query.string("caller")
            let model = try await readModels.runs(asOf: asOf)
            let runs = model.rows.values
                .filter { run in
                    (statuses.isEmpty || statuses.contains(run.status)) && (agent == nil || run.agent == agent)
                        && (caller == nil || run.caller == caller)
                }
                .sorted { ($0.startedAt, $0.firstSeq) > ($1.startedAt, $1.firstSeq) }
                .prefix(limit)
            return Response.json(#"{"runs":[\#(try runs.map(encode).joined(separator: ","))],"asOf":\#(model.seq)}"#)
        }

        api.get("/runs/{id}") { request, context in
            let id = try context.parameters.require("id")
            let asOf = try QueryParameters(request).integer("as_of", in: 0...Int64.max)
            let model = try await readModels.runs(asOf: asOf)
            guard let run = model.rows[id] else { throw unknownRun(id, asOf: asOf) }
            return Response.json(#"{"run":\#(try encode(run)),"asOf":\#(model.seq)}"#)
        }

        api.get("/runs/{id}/events") { request, context in
            let id = try context.parameters.require("id")
            let query = QueryParameters(request)
            let after = try query.integer("after", default: 0, in: 0...Int64.max)!
            let limit = try query.integer("limit", default: 1_000, in: 1...1_000)!
            guard try await readModels.runs(asOf: nil).rows[id] != nil else { throw unknownRun(id, asOf: nil) }
            return try await eventPage(filter: EventFilter(stream: "run/\(id)"), after: after, limit: Int(limit))
        }

        api.get("/tool-calls") { request, _ in
            let query = QueryParameters(request)
            let asOf = try query.integer("as_of", in: 0...Int64.max)
            let limit = Int(try query.integer("limit", default: 1_000, in: 1...10_000)!)
            let statuses = try query.choices("status", of: ToolCallStatus.self)
            let run = query.string("run"), tool = query.string("tool")
            let model = try await readModels.toolCalls(asOf: asOf)
            let calls = model.rows.values
                .filter { call in
                    (run == nil || call.runId == run) && (tool == nil || call.tool == tool)
                        && (statuses.isEmpty || statuses.contains(call.status))
                }
                .sorted { $0.firstSeq < $1.firstSeq }
                .prefix(limit)
            return Response.json(#"{"toolCalls":[\#(try calls.map(encode).joined(separator: ","))],"asOf":\#(model.seq)}"#)
        }

        api.post("/runs/{id}/stop") { request, context in
            let id = try context.parameters.require("id")
            let body = try await decodeBody(StopRequest.self, from: request, context: context) ?? StopRequest()
            let requestedBy = body.requestedBy ?? "user:anonymous"
            do {
                try Validation.checkActor(requestedBy)
            } catch {
                throw APIError.badRequest("`requestedBy` must be a principal like user:carol (no spaces, at most 256 bytes), not `\(requestedBy)`")
            }
            guard let run = try await readModels.runs(asOf: nil).rows[id] else { throw unknownRun(id, asOf: nil) }
            if run.status.isFinished {
                throw APIError(.conflict, code: "run_finished", "run \(id) has already \(run.status.rawValue); there is nothing to stop")
            }
            var payload = Glassbox_V1_RunStopRequested()
            payload.runID = id
            payload.requestedBy = requestedBy
            payload.reason = body.reason ?? ""
            let result = try await append([try EventDraft(payload, actor: requestedBy)], to: "run/\(id)")
            return Response.json(#"{"runId":\#(JSONText.string(id)),"seq":\#(result.lastSeq),"status":"stopping"}"#, status: .accepted)
        }

        api.post("/audit/query") { request, context in
            guard let body = try await decodeBody(AuditRequest.self, from: request, context: context), let sql = body.sql,
                  !sql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            else {
                throw APIError.badRequest(#"send a JSON body like {"sql": "SELECT type, COUNT(*) FROM events GROUP BY type"}"#)
            }
            let maxRows = body.maxRows ?? configuration.auditMaxRows
            let timeoutMs = body.timeoutMs ?? configuration.auditTimeoutMilliseconds
            guard (1...configuration.auditMaxRows).contains(maxRows) else {
                throw APIError.badRequest("`maxRows` must be from 1 to \(configuration.auditMaxRows), not \(maxRows)")
            }
            guard (1...configuration.auditTimeoutMilliseconds).contains(timeoutMs) else {
                throw APIError.badRequest("`timeoutMs` must be from 1 to \(configuration.auditTimeoutMilliseconds), not \(timeoutMs)")
            }
            let principal = "user:anonymous"
            var record = Glassbox_V1_AuditQueried()
            record.principal = principal
            record.query = sql
            let started = ContinuousClock.now
            do {
                let result = try await AuditQuery(path: log.path).run(sql, maxRows: maxRows, timeout: .milliseconds(timeoutMs))
                record.rows = UInt32(clamping: result.rows.count)
                record.truncated = result.truncated
                record.durationMs = UInt32(clamping: Int((result.duration / .milliseconds(1)).rounded()))
                let appended = try await append([try EventDraft(record, actor: principal)], to: "audit/\(principal)")
                let columns = result.columns.map(JSONText.string).joined(separator: ",")
                let rows = result.rows.map { "[" + $0.map(\.json).joined(separator: ",") + "]" }.joined(separator: ",")
                let duration = Double((result.duration / .microseconds(1)).rounded()) / 1_000
                return Response.json(#"{"columns":[\#(columns)],"rows":[\#(rows)],"truncated":\#(result.truncated),"durationMs":\#(duration),"seq":\#(appended.lastSeq)}"#)
            } catch let error as EventLogError {
                // A refused or failed query is recorded too: trying is part of the audit trail.
                record.error = error.description
                record.durationMs = UInt32(clamping: Int(((ContinuousClock.now - started) / .milliseconds(1)).rounded()))
                _ = try await append([try EventDraft(record, actor: principal)], to: "audit/\(principal)")
                throw APIError.from(error)
            }
        }
    }

    private func eventPage(filter: EventFilter, after: Int64, limit: Int) async throws -> Response {
        let head = try await log.lastSeq()
        let events = try await log.events(EventQuery(filter: filter, after: after, through: head, limit: limit))
        let next = events.last?.seq ?? after
        var text = #"{"events":["#
        text.reserveCapacity(events.count * 600)
        for (index, event) in events.enumerated() {
            if index > 0 { text += "," }
            text += event.jsonLine
        }
        text += #"],"nextAfter":\#(next),"lastSeq":\#(head)}"#
        return Response.json(text)
    }

    private func unknownRun(_ id: String, asOf: Int64?) -> APIError {
        .notFound("no run \(id)" + (asOf.map { " as of seq \($0)" } ?? "") + "; GET /api/v1/runs lists the runs")
    }

    private func encode(_ value: some Encodable) throws -> String {
        try FlatJSONEncoder.encode(value)
    }

    /// Decodes an optional JSON body, refusing bodies larger than the configured limit.
    func decodeBody<T: Decodable>(_ type: T.Type, from request: Request, context: GlassboxRequestContext) async throws -> T? {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: configuration.maxBodyBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, code: "payload_too_large", "the request body is larger than \(configuration.maxBodyBytes) bytes")
        }
        if buffer.readableBytes == 0 { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIError.badRequest("the JSON body cannot be read: \(error.plainDescription)")
        } catch {
            throw APIError.badRequest("the body must be JSON: \(error)")
        }
    }

    func append(_ drafts: [EventDraft], to stream: String) async throws -> AppendResult {
        try await store.append(drafts, to: stream, expectedVersion: .any)
    }
}

struct StopRequest: Decodable {
    var reason: String?
    var requestedBy: String?
}

struct AuditRequest: Decodable {
    var sql: String?
    var maxRows: Int?
    var timeoutMs: Int?
}

extension AuditValue {
    /// The cell as a JSON value; blobs as `{"base64": …}`.
    var json: String {
        switch self {
        case .null: "null"
        case .integer(let value): String(value)
        case .real(let value): value.isFinite ? "\(value)" : "null"
        case .text(let value): JSONText.string(value)
        case .blob(let bytes): #"{"base64":"\#(Data(bytes).base64EncodedString())"}"#
        }
    }
}

extension DecodingError {
    var plainDescription: String {
        switch self {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return (path.isEmpty ? "" : "`\(path)`: ") + context.debugDescription
        case .keyNotFound(let key, _):
            return "missing `\(key.stringValue)`"
        @unknown default:
            return "\(self)"
        }
    }
}
