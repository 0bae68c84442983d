import Agents
import ArgumentParser
import EventLog
import Foundation
import Glassbox
import Security
import Tools

/// `glassbox replay RUN [--policy NEW.yaml]`.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-execute a recorded run against its recorded model answers and tool results, and check every decision matches.",
        discussion: """
        No model is called and no tool runs. The loop's decisions (the conversation sent, each tool call and its input, \
        each authorization, the end) are compared with the log. With --policy, authorizations are decided by that \
        policy instead and the calls it decides differently are listed: what a stricter policy would have changed.
        Exit codes: 0 every decision matched, 1 a mismatch, 2 unknown run or bad input.
        """)

    @Argument(help: "The run's id.") var runID: String
    @Flag(help: "Print the report as JSON.") var json = false
    @OptionGroup var setup: AgentSetupOptions
    @OptionGroup var location: LogLocation

    func run() async throws {
        let platform = try setup.platform()
        let log = try location.openForReading()
        defer { try? log.close() }
        let replay = RunReplay(registry: platform.tools.registry, policy: platform.policy, environment: platform.tools.environment)
        let report: RunReplay.Report
        do {
            report = try await replay.replay(runID, in: log)
        } catch let error as AgentRunError {
            throw CommandFailure(message: error.description, code: ExitStatus.invalidInput)
        }
        if json {
            let body: JSONValue = [
                "runId": .string(report.runID), "agent": .string(report.agent), "steps": .integer(Int64(report.steps)),
                "checks": .integer(Int64(report.checks)), "matched": .bool(report.matched), "unfinished": .bool(report.unfinished),
                "mismatches": .array(report.mismatches.map { ["seq": .integer($0.seq), "what": .string($0.what), "replay": .string($0.expected), "log": .string($0.recorded)] }),
                "policyChanges": .array(report.policyChanges.map(\.json)),
            ]
            Terminal.line(body.jsonText)
        } else {
            Terminal.line("run \(report.runID) (\(report.agent)): \(report.steps) steps, \(report.checks) decisions checked\(report.unfinished ? "; the run has not ended" : "")")
            for mismatch in report.mismatches { Terminal.line(Terminal.paint("  ✗ \(mismatch)", "31")) }
            if report.matched { Terminal.line(Terminal.paint("✓ every decision matched the log", "32")) }
            if setup.policy != nil {
                if report.policyChanges.isEmpty {
                    Terminal.line("the policy \(platform.policy.source) decides every tool call of this run as recorded")
                } else {
                    Terminal.line("under \(platform.policy.source):")
                    for change in report.policyChanges { Terminal.line("  • \(change)") }
                }
            } else if !report.policyChanges.isEmpty {
                Terminal.line("the current policy decides \(report.policyChanges.count) call(s) differently from when the run happened:")
                for change in report.policyChanges { Terminal.line("  • \(change)") }
            }
        }
        if !report.matched { throw ExitCode(1) }
    }
}

/// `glassbox whatif --policy NEW.yaml [--since DATE]`.
struct WhatIfCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whatif",
        abstract: "Which past tool calls a proposed policy would have denied (or allowed), from the log.",
        discussion: """
        Every tool call since --since is authorized again, with the recorded caller, agent and input, by the proposed \
        policy, and compared with the recorded decision. Nothing runs.
        Exit codes: 0 the report was made, 2 bad input.
        """)

    @Option(help: ArgumentHelp("The proposed policy file.", valueName: "file")) var policy: String
    @Option(help: ArgumentHelp("Only calls at or after this time: 2026-11-01, 2026-11-01T09:00:00Z, or 7d / 24h / 30m ago.", valueName: "date"))
    var since: String?
    @Flag(help: "Print the report as JSON.") var json = false
    @Option(help: ArgumentHelp("A YAML configuration file (connections and workspace for planning calls).", valueName: "file")) var config: String?
    @OptionGroup var location: LogLocation

    func run() async throws {
        let platform = try AgentSetupOptions.parse((config.map { ["--config", $0] } ?? []) + ["--policy", policy]).platform()
        let sinceTime = try since.map(Self.parse) ?? 0
        let log = try location.openForReading()
        defer { try? log.close() }
        let whatIf = PolicyWhatIf(registry: platform.tools.registry, policy: platform.policy, environment: platform.tools.environment)
        let report = try await whatIf.run(log: log, since: sinceTime) { examined in Terminal.progress("examined \(Format.count(examined)) tool calls …") }
        Terminal.endProgress()
        if json {
            Terminal.line(JSONValue.object(["examined": .integer(Int64(report.examined)), "changes": .array(report.changes.map(\.json))]).jsonText)
            return
        }
        Terminal.line("\(Format.count(report.examined)) past tool calls decided again with \(platform.policy.source):")
        Terminal.line("  \(report.newlyDenied.count) would have been DENIED, \(report.newlyAllowed.count) would have been ALLOWED that were denied")
        for change in report.newlyDenied { Terminal.line(Terminal.paint("  ✗ ", "31") + change.description) }
        for change in report.newlyAllowed { Terminal.line(Terminal.paint("  ✓ ", "33") + change.description) }
    }

    /// Unix nanoseconds of an ISO date or datetime, or of "N[dhm]" ago.
    static func parse(_ text: String) throws -> Int64 {
        var seconds: Double? = nil
        if let unit = text.last, "dhm".contains(unit), let amount = Double(text.dropLast()), amount >= 0 {
            seconds = Date().timeIntervalSince1970 - amount * (unit == "d" ? 86_400 : unit == "h" ? 3_600 : 60)
        } else if let date = ISO8601DateFormatter().date(from: text) {
            seconds = date.timeIntervalSince1970
        } else {
            let day = ISO8601DateFormatter()
            day.formatOptions = [.withFullDate]
            seconds = day.date(from: text)?.timeIntervalSince1970
        }
        guard let seconds else {
            throw CommandFailure(message: "--since \(text) is not a date; use 2026-11-01, 2026-11-01T09:00:00Z, or 7d / 24h / 30m", code: ExitStatus.invalidInput)
        }
        // Event times are nanoseconds since 1970 in 64 bits: 1970 to 2262.
        guard seconds.isFinite, (0...9.2e9).contains(seconds) else {
            throw CommandFailure(message: "--since \(text) is outside 1970–2262, the range of event times; give a date in it", code: ExitStatus.invalidInput)
        }
        return Int64(seconds * 1e9)
    }
}

extension PolicyChange {
    var json: JSONValue {
        ["seq": .integer(seq), "time": .integer(time), "callId": .string(callID), "stream": .string(stream), "tool": .string(tool),
         "actor": .string(actor), "input": input, "recorded": .string(recordedAllowed ? "allowed" : "denied"), "recordedRule": .string(recordedRule),
         "proposed": .string(proposedAllowed ? "allowed" : "denied"), "proposedRule": .string(proposedRule), "reason": .string(reason)]
    }
}
