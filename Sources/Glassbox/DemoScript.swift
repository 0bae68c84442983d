import Foundation

/// One scripted run of the demo: who runs it, for whom, and its events with their pace.
public struct DemoScript: Sendable {
    public let name: String
    public let agent: String
    public let caller: String
    public let task: String
    let body: @Sendable (_ runID: String) -> [DemoStep]

    /// The run's events, `run.started` first.
    func steps(_ runID: String) -> [DemoStep] {
        [DemoStep(delay: 0, type: "run.started", data: [
            "runId": runID, "agent": agent, "agentVersion": "1", "task": task, "caller": caller,
            "provider": "scripted", "model": "scripted-demo", "labels": ["demo": "true"],
            "budget": ["maxSteps": 10, "maxTokens": 40_000, "maxWallSeconds": 300],
        ])] + body(runID)
    }

    /// Every script, in the order the demo plays them.
    public static let all: [DemoScript] = [revenue, documentTable, dbtModel, weeklyReport, headcount, dropTable, longBackfill]
}

/// One event of a script: wait `delay` seconds (scaled by the demo's pace), then append.
struct DemoStep: Sendable {
    var delay: Double
    var type: String
    /// JSON-compatible values only (strings, numbers, booleans, arrays, dictionaries).
    nonisolated(unsafe) var data: [String: Any]
    /// Events with the same span number share a child span of the run; nil is the run's own span.
    var span: Int? = nil
    var actor: String? = nil
}

// MARK: - Building blocks

private func llmCall(_ span: Int, _ id: String, messages: Int, thought: String, input: Int, output: Int,
                     tool: (name: String, arguments: [String: Any])?) -> [DemoStep] {
    var responded: [String: Any] = [
        "callId": id, "provider": "scripted", "model": "scripted-demo", "inputTokens": input, "outputTokens": output,
        "latencyMs": 900 + (input % 700), "finishReasons": [tool == nil ? "stop" : "tool_calls"],
        "costUsd": Double(input) * 0.000002 + Double(output) * 0.000008,
    ]
    if let tool {
        responded["toolCalls"] = [["id": id.replacingOccurrences(of: "llm", with: "call"), "name": tool.name, "arguments": tool.arguments]]
    }
    return [
        DemoStep(delay: 0.4, type: "llm.requested", data: [
            "callId": id, "provider": "scripted", "model": "scripted-demo", "messageCount": messages, "toolCount": 4,
            "stream": true, "attempt": 1,
        ], span: span),
        DemoStep(delay: 1.1, type: "agent.thought", data: ["callId": id, "step": span, "text": thought], span: span),
        DemoStep(delay: 0.6, type: "llm.responded", data: responded, span: span),
    ]
}

private struct Grant {
    let action: String
    let resource: String
    let rule: String
}

private func toolCall(_ span: Int, _ id: String, tool: String, risk: String, principal: String, input: [String: Any],
                      grant: Grant, executingAs: String, seconds: Double, ending: DemoStep) -> [DemoStep] {
    [
        DemoStep(delay: 0.2, type: "tool.requested", data: [
            "callId": id, "tool": tool, "input": input, "risk": risk, "principal": principal,
            "llmCallId": id.replacingOccurrences(of: "call", with: "llm"),
        ], span: span),
        DemoStep(delay: 0.1, type: "tool.authorized", data: [
            "callId": id, "tool": tool, "principal": principal, "action": grant.action, "resource": grant.resource,
            "rule": grant.rule,
        ], span: span),
        DemoStep(delay: 0.1, type: "tool.started", data: ["callId": id, "tool": tool, "executingAs": executingAs], span: span),
        { var ending = ending; ending.delay = seconds; ending.span = span; return ending }(),
    ]
}

private func completed(_ id: String, _ tool: String, rows: Int? = nil, output: Any, ms: Int) -> DemoStep {
    var data: [String: Any] = ["callId": id, "tool": tool, "output": output, "durationMs": ms,
                               "outputBytes": (try? JSONSerialization.data(withJSONObject: ["o": output]).count) ?? 0]
    if let rows { data["rows"] = rows }
    return DemoStep(delay: 0, type: "tool.completed", data: data)
}

private func finished(_ runID: String, _ output: String) -> DemoStep {
    DemoStep(delay: 0.3, type: "run.completed", data: ["runId": runID, "output": output])
}

// MARK: - The scripts

extension DemoScript {
    static let revenue = DemoScript(
        name: "revenue", agent: "analyst", caller: "user:alice",
        task: "Which region grew fastest last quarter, and by how much?"
    ) { runID in
        let sql = "SELECT region, SUM(amount) FILTER (WHERE ordered_at >= DATE '2026-07-01') AS q3, SUM(amount) FILTER (WHERE ordered_at < DATE '2026-07-01') AS q2 FROM sales.orders WHERE ordered_at >= DATE '2026-04-01' GROUP BY region"
        let rows: [[String: Any]] = [
            ["region": "EMEA", "q2": 1_240_000, "q3": 1_388_800], ["region": "AMER", "q2": 2_010_000, "q3": 2_090_400],
            ["region": "APAC", "q2": 870_000, "q3": 843_900], ["region": "LATAM", "q2": 310_000, "q3": 334_800],
        ]
        return llmCall(1, "llm-1", messages: 2,
                       thought: "Revenue per region is in sales.orders (amount, region, ordered_at). Sum Q2 and Q3 per region and compare.",
                       input: 812, output: 96, tool: ("sql_query", ["sql": sql]))
            + toolCall(2, "call-1", tool: "sql_query", risk: "read", principal: "user:alice", input: ["sql": sql],
                       grant: Grant(action: "sql:read", resource: "warehouse.sales.orders", rule: "analysts-read-sales"),
                       executingAs: "role:alice_readonly", seconds: 1.4,
                       ending: completed("call-1", "sql_query", rows: 4, output: rows, ms: 1_284))
            + llmCall(3, "llm-2", messages: 4,
                      thought: "EMEA +12.0%, LATAM +8.0%, AMER +4.0%, APAC −3.0%. EMEA grew fastest.",
                      input: 1_204, output: 71, tool: nil)
            + [finished(runID, "EMEA grew fastest last quarter: revenue up 12.0% (1.24 M → 1.39 M).")]
    }

    static let documentTable = DemoScript(
        name: "document-table", agent: "documenter", caller: "service:nightly-docs",
        task: "Document the table sales.customers for the data catalog."
    ) { runID in
        let columns: [[String: Any]] = [
            ["name": "customer_id", "type": "bigint", "nullable": false], ["name": "name", "type": "text", "nullable": false],
            ["name": "segment", "type": "text", "nullable": true], ["name": "created_at", "type": "timestamptz", "nullable": false],
        ]
        return llmCall(1, "llm-1", messages: 2, thought: "Start with the catalog entry of sales.customers to see its columns.",
                       input: 640, output: 44, tool: ("catalog_describe", ["table": "sales.customers"]))
            + toolCall(2, "call-1", tool: "catalog_describe", risk: "read", principal: "service:nightly-docs",
                       input: ["table": "sales.customers"],
                       grant: Grant(action: "catalog:read", resource: "warehouse.sales.customers", rule: "docs-read-catalog"),
                       executingAs: "role:docs_reader", seconds: 0.3,
                       ending: completed("call-1", "catalog_describe", rows: 4, output: columns, ms: 212))
            + llmCall(3, "llm-2", messages: 4, thought: "Profile segment: how many distinct values and how many nulls?",
                      input: 1_010, output: 61, tool: ("sql_query", ["sql": "SELECT segment, COUNT(*) FROM sales.customers GROUP BY segment"]))
            + toolCall(4, "call-2", tool: "sql_query", risk: "read", principal: "service:nightly-docs",
                       input: ["sql": "SELECT segment, COUNT(*) FROM sales.customers GROUP BY segment"],
                       grant: Grant(action: "sql:read", resource: "warehouse.sales.customers", rule: "docs-read-catalog"),
                       executingAs: "role:docs_reader", seconds: 0.9,
                       ending: completed("call-2", "sql_query", rows: 4, output: [
                           ["segment": "enterprise", "count": 412], ["segment": "smb", "count": 9_870],
                           ["segment": "public", "count": 57], ["segment": NSNull(), "count": 133],
                       ], ms: 861))
            + llmCall(5, "llm-3", messages: 6,
                      thought: "segment has three values and 1.3% nulls (older accounts). Write the description with that caveat.",
                      input: 1_390, output: 402, tool: ("catalog_write_docs", ["table": "sales.customers"]))
            + toolCall(6, "call-3", tool: "catalog_write_docs", risk: "write", principal: "service:nightly-docs",
                       input: ["table": "sales.customers", "description": "One row per customer account…"],
                       grant: Grant(action: "catalog:write", resource: "warehouse.sales.customers", rule: "docs-write-descriptions"),
                       executingAs: "role:docs_writer", seconds: 0.4,
                       ending: completed("call-3", "catalog_write_docs", output: ["updated": 5], ms: 388))
            + [finished(runID, "Documented sales.customers: table description and 4 columns (segment: 3 values, 1.3% null).")]
    }

    static let dbtModel = DemoScript(
        name: "dbt-model", agent: "engineer", caller: "user:bob",
        task: "Add a dbt model for monthly active customers and commit it."
    ) { runID in
        let model = "select date_trunc('month', ordered_at) as month, count(distinct customer_id) as active_customers from {{ ref('orders') }} group by 1"
        return llmCall(1, "llm-1", messages: 2, thought: "The orders staging model has customer_id and ordered_at; write marts/monthly_active_customers.sql.",
                       input: 930, output: 188, tool: ("dbt_write_model", ["path": "models/marts/monthly_active_customers.sql"]))
            + [
                DemoStep(delay: 0.2, type: "tool.requested", data: [
                    "callId": "call-1", "tool": "dbt_write_model", "risk": "write", "principal": "user:bob", "llmCallId": "llm-1",
                    "input": ["path": "models/marts/monthly_active_customers.sql", "sql": model],
                ], span: 2),
                DemoStep(delay: 0.1, type: "tool.authorized", data: [
                    "callId": "call-1", "tool": "dbt_write_model", "principal": "user:bob", "action": "dbt:write",
                    "resource": "repo.analytics.models.marts", "rule": "engineers-write-marts", "approvalRequired": true,
                ], span: 2),
                DemoStep(delay: 0.1, type: "approval.requested", data: [
                    "approvalId": "appr-\(runID.suffix(6))", "callId": "call-1", "tool": "dbt_write_model", "runId": runID,
                    "reason": "writes to models/marts require a reviewer", "approver": "role:data-leads",
                    "input": ["path": "models/marts/monthly_active_customers.sql"],
                ], span: 2),
                DemoStep(delay: 4.5, type: "approval.granted", data: [
                    "approvalId": "appr-\(runID.suffix(6))", "callId": "call-1", "decidedBy": "user:dana", "comment": "looks right",
                ], span: 2, actor: "user:dana"),
                DemoStep(delay: 0.1, type: "tool.started", data: ["callId": "call-1", "tool": "dbt_write_model", "executingAs": "git:bob"], span: 2),
                DemoStep(delay: 0.5, type: "tool.completed", data: [
                    "callId": "call-1", "tool": "dbt_write_model", "output": ["written": "models/marts/monthly_active_customers.sql", "bytes": 172],
                    "durationMs": 421, "outputBytes": 80,
                ], span: 2),
            ]
            + llmCall(3, "llm-2", messages: 4, thought: "Model written and approved. Commit it on a branch.",
                      input: 1_120, output: 52, tool: ("git_commit", ["message": "Add monthly_active_customers mart"]))
            + toolCall(4, "call-2", tool: "git_commit", risk: "write", principal: "user:bob",
                       input: ["branch": "agent/monthly-active-customers", "message": "Add monthly_active_customers mart"],
                       grant: Grant(action: "git:commit", resource: "repo.analytics", rule: "engineers-commit-branches"),
                       executingAs: "git:bob", seconds: 0.7,
                       ending: completed("call-2", "git_commit", output: ["commit": "4f1c2ab", "branch": "agent/monthly-active-customers"], ms: 655))
            + [finished(runID, "Committed models/marts/monthly_active_customers.sql on agent/monthly-active-customers (4f1c2ab).")]
    }

    static let weeklyReport = DemoScript(
        name: "weekly-report", agent: "reporter", caller: "service:weekly-report",
        task: "Send the weekly revenue chart to the executives."
    ) { runID in
        let sql = "SELECT date_trunc('week', ordered_at) AS week, SUM(amount) FROM sales.orders GROUP BY 1 ORDER BY 1 DESC LIMIT 12"
        return llmCall(1, "llm-1", messages: 2, thought: "Twelve weeks of revenue, then a line chart, then the email.",
                       input: 700, output: 58, tool: ("sql_query", ["sql": sql]))
            + toolCall(2, "call-1", tool: "sql_query", risk: "read", principal: "service:weekly-report", input: ["sql": sql],
                       grant: Grant(action: "sql:read", resource: "warehouse.sales.orders", rule: "reports-read-sales"),
                       executingAs: "role:reporting", seconds: 1.1,
                       ending: completed("call-1", "sql_query", rows: 12, output: ["rows": 12], ms: 1_032))
            + llmCall(3, "llm-2", messages: 4, thought: "Revenue is flat for three weeks; chart it and email the PNG.",
                      input: 1_480, output: 77, tool: ("send_email", ["to": "execs@example.com"]))
            + toolCall(4, "call-2", tool: "send_email", risk: "write", principal: "service:weekly-report",
                       input: ["to": ["execs@example.com"], "subject": "Weekly revenue", "attachments": ["revenue.png"]],
                       grant: Grant(action: "email:send", resource: "email.execs@example.com", rule: "reports-email-execs"),
                       executingAs: "smtp:reports", seconds: 5,
                       ending: DemoStep(delay: 0, type: "tool.failed", data: [
                           "callId": "call-2", "tool": "send_email", "errorType": "timeout", "retryable": true, "durationMs": 5_000,
                           "message": "SMTP server smtp.internal:587 did not answer within 5 s",
                       ]))
            + [DemoStep(delay: 0.3, type: "run.failed", data: [
                "runId": runID, "errorType": "tool_failed",
                "message": "send_email failed: SMTP server smtp.internal:587 did not answer within 5 s",
            ])]
    }

    static let headcount = DemoScript(
        name: "headcount", agent: "analyst", caller: "user:erin",
        task: "Is revenue per employee higher in EMEA than in AMER?"
    ) { runID in
        let sql = "SELECT region, COUNT(*) FROM hr.employees GROUP BY region"
        return llmCall(1, "llm-1", messages: 2, thought: "I need headcount per region; hr.employees should have it.",
                       input: 760, output: 49, tool: ("sql_query", ["sql": sql]))
            + [
                DemoStep(delay: 0.2, type: "tool.requested", data: [
                    "callId": "call-1", "tool": "sql_query", "risk": "read", "principal": "user:erin", "llmCallId": "llm-1", "input": ["sql": sql],
                ], span: 2),
                DemoStep(delay: 0.1, type: "tool.denied", data: [
                    "callId": "call-1", "tool": "sql_query", "principal": "user:erin", "action": "sql:read",
                    "resource": "warehouse.hr.employees", "rule": "deny-by-default", "stage": "authorization",
                    "reason": "no grant of user:erin allows sql:read on warehouse.hr.*",
                ], span: 2),
            ]
            + llmCall(3, "llm-2", messages: 4, thought: "hr.employees is not readable for user:erin. Answer with what I can see and say what is missing.",
                      input: 980, output: 90, tool: nil)
            + [finished(runID, "I cannot compare revenue per employee: you (user:erin) may not read hr.employees. Ask a data lead for the hr-read role.")]
    }

    static let dropTable = DemoScript(
        name: "drop-table", agent: "engineer", caller: "user:bob",
        task: "Clean up the stale staging tables in the warehouse."
    ) { runID in
        let sql = "DROP TABLE staging.orders_2024_backup"
        return llmCall(1, "llm-1", messages: 2, thought: "staging.orders_2024_backup has not been read for 200 days; drop it.",
                       input: 820, output: 40, tool: ("sql_execute", ["sql": sql]))
            + [
                DemoStep(delay: 0.2, type: "tool.requested", data: [
                    "callId": "call-1", "tool": "sql_execute", "risk": "destructive", "principal": "user:bob", "llmCallId": "llm-1", "input": ["sql": sql],
                ], span: 2),
                DemoStep(delay: 0.1, type: "guardrail.blocked", data: [
                    "callId": "call-1", "tool": "sql_execute", "guardrail": "no-ddl-drop",
                    "reason": "DROP statements are never run by agents", "detail": sql,
                ], span: 2),
                // The guard ends every refused call with tool.denied, naming the stage that refused it.
                DemoStep(delay: 0.05, type: "tool.denied", data: [
                    "callId": "call-1", "tool": "sql_execute", "principal": "user:bob", "stage": "guardrail",
                    "rule": "no-ddl-drop", "reason": "DROP statements are never run by agents",
                ], span: 2),
            ]
            + llmCall(3, "llm-2", messages: 4, thought: "Dropping is blocked by a guardrail. Report the candidate tables for a human instead.",
                      input: 1_020, output: 83, tool: nil)
            + [finished(runID, "Dropping is not allowed for agents. Candidate for removal: staging.orders_2024_backup (unread for 200 days).")]
    }

    static let longBackfill = DemoScript(
        name: "long-backfill", agent: "analyst", caller: "user:carol",
        task: "Recompute customer lifetime value for every customer since 2019."
    ) { runID in
        var steps = llmCall(1, "llm-1", messages: 2, thought: "Lifetime value per customer over all orders; a large scan, go year by year.",
                            input: 900, output: 70, tool: ("sql_query", ["sql": "SELECT customer_id, SUM(amount) FROM sales.orders WHERE ordered_at < DATE '2020-01-01' GROUP BY 1"]))
        for year in 2019...2021 {
            let id = "call-\(year - 2018)"
            let sql = "SELECT customer_id, SUM(amount) FROM sales.orders WHERE EXTRACT(year FROM ordered_at) = \(year) GROUP BY 1"
            steps += toolCall(2 * (year - 2018), id, tool: "sql_query", risk: "read", principal: "user:carol", input: ["sql": sql],
                              grant: Grant(action: "sql:read", resource: "warehouse.sales.orders", rule: "analysts-read-sales"),
                              executingAs: "role:carol_readonly", seconds: 2.5,
                              ending: completed(id, "sql_query", rows: 18_000 + year, output: ["rows": 18_000 + year], ms: 2_480))
            steps += llmCall(2 * (year - 2018) + 1, "llm-\(year - 2017)", messages: 2 + 2 * (year - 2018),
                             thought: "Year \(year) done. Continue with \(year + 1).", input: 1_000 + 300 * (year - 2018), output: 40,
                             tool: ("sql_query", ["sql": "…"]))
        }
        // Somebody decides this is too expensive and stops it; the demo honours the request.
        steps.append(DemoStep(delay: 0.8, type: "run.stop_requested", data: [
            "runId": runID, "requestedBy": "user:carol", "reason": "too expensive at peak hours; will rerun tonight",
        ], actor: "user:carol"))
        return steps
    }
}
