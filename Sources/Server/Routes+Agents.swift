public import Agents
import EventLog
import Foundation
public import Glassbox
import Hummingbird
import Tools

/// Agent runs and approvals: start a run, list agents, decide waiting tool calls.
/// Until authentication lands, the acting principal comes in the body (`caller`, `as`).
extension GlassboxServer {
    func addAgentRoutes(to router: Router<GlassboxRequestContext>) {
        let api = router.group("/api/v1")

        api.get("/agents") { _, _ in
            let agents = try requireAgents()
            let list: [JSONValue] = agents.platform.catalog.names.map { name in
                let definition = agents.platform.catalog.definitions[name]!
                let resolved = try? agents.platform.models.resolve(for: definition)
                return ["name": .string(name), "description": .string(definition.description), "tools": .array(definition.tools.map(JSONValue.string)),
                        "provider": resolved.map { .string($0.provider.name) } ?? .null, "model": resolved.map { .string($0.model) } ?? .null]
            }
            var llm: [String: JSONValue] = ["summary": .string(agents.platform.models.summary)]
            if let first = agents.platform.catalog.names.first.flatMap({ agents.platform.catalog.definitions[$0] }) {
                do {
                    let resolved = try agents.platform.models.resolve(for: first)
                    llm["configured"] = true
                    llm["provider"] = .string(resolved.provider.name)
                    llm["model"] = .string(resolved.model)
                    llm["scripted"] = .bool(resolved.provider.name == "scripted")
                    llm["problem"] = .null
                } catch {
                    llm["configured"] = false
                    llm["scripted"] = false
                    llm["problem"] = .string(String(describing: error))
                }
            }
            return Response.json(JSONValue.object(["agents": .array(list), "llm": .object(llm)]).jsonText)
        }

        api.post("/runs") { request, context in
            let agents = try requireAgents()
            guard let body = try await decodeBody(StartRunRequest.self, from: request, context: context) else {
                throw APIError.badRequest(#"send a JSON body like {"agent": "analyst", "input": "How many customers per country?", "caller": "user:alice"}"#)
            }
            guard let input = body.input, !input.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw APIError.badRequest("`input` is missing or empty; say what the agent should do")
            }
            guard let caller = body.caller else {
                throw APIError.badRequest("`caller` is missing: the principal whose rights the agent acts with, e.g. user:alice")
            }
            let parent = TraceContext(continuing: request.headers[values: .init("traceparent")!].first)
            do {
                let run = try await agents.runtime.start(agent: body.agent ?? "analyst", task: input, caller: caller, parent: parent)
                let text = JSONValue.object(["runId": .string(run.runID), "traceId": .string(run.traceID), "seq": .integer(run.seq),
                                             "status": "running"]).jsonText
                return Response.json(text, status: .accepted)
            } catch let error as AgentRunError {
                throw APIError.badRequest(error.description)
            }
        }

        api.get("/approvals") { request, _ in
            let agents = try requireAgents()
            let query = QueryParameters(request)
            let status = query.string("status")
            if let status, !["pending", "granted", "rejected", "closed"].contains(status) {
                throw APIError.badRequest("`status` must be pending, granted, rejected or closed, not `\(status)`")
            }
            let limit = Int(try query.integer("limit", default: 200, in: 1...1_000)!)
            let approvals = try await agents.desk.list(status: status, limit: limit)
            return Response.json(JSONValue.object(["approvals": .array(approvals.map(\.json))]).jsonText)
        }

        for (verb, grant) in [("approve", true), ("reject", false)] {
            api.post("/approvals/{id}/\(verb)") { request, context in
                let agents = try requireAgents()
                let id = try context.parameters.require("id")
                let body = try await decodeBody(DecisionRequest.self, from: request, context: context) ?? DecisionRequest()
                guard let decider = body.as else {
                    throw APIError.badRequest(#"`as` is missing: who decides, e.g. {"as": "user:sam"}"#)
                }
                do {
                    let seq = try await agents.desk.decide(id, grant: grant, by: decider, comment: body.comment ?? "")
                    return Response.json(JSONValue.object(["approvalId": .string(id), "status": .string(grant ? "granted" : "rejected"),
                                                           "seq": .integer(seq)]).jsonText)
                } catch let refusal as ApprovalDesk.Refusal {
                    switch refusal {
                    case .unknown(let message): throw APIError.notFound(message)
                    case .alreadyDecided(let message): throw APIError(.conflict, code: "already_decided", message)
                    case .notAllowed(let message): throw APIError(.forbidden, code: "not_an_approver", message)
                    case .badInput(let message): throw APIError.badRequest(message)
                    }
                }
            }
        }
    }

    func requireAgents() throws -> AgentServices {
        guard let agents else {
            throw APIError(.serviceUnavailable, code: "agents_unavailable", "this server runs without agents; start it with `glassbox serve`")
        }
        return agents
    }
}

/// What the server runs agents with.
public struct AgentServices: Sendable {
    public let platform: AgentPlatform
    public let runtime: AgentRuntime
    public let desk: ApprovalDesk

    public init(platform: AgentPlatform, runtime: AgentRuntime, desk: ApprovalDesk) {
        self.platform = platform
        self.runtime = runtime
        self.desk = desk
    }
}

struct StartRunRequest: Decodable {
    var agent: String?
    var input: String?
    var caller: String?
}

struct DecisionRequest: Decodable {
    var `as`: String?
    var comment: String?
}
