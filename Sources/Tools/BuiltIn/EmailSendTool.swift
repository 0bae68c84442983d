import CGlassboxCurl
import Foundation
import Security

/// `email.send`: a plain-text mail, with optional workspace files (e.g. SVG charts) attached, delivered
/// over SMTP (`smtp://`, with STARTTLS when offered and required when there is a password, or `smtps://`).
///
/// Each recipient (`to` and `cc`) must match `email.allowRecipients` (guardrail
/// `email.recipient_not_allowed`) and needs `email:send` on its address; each attachment needs
/// `file:read` on `workspace:<path>` and is confined like `file.read`. CR or LF in the subject or an
/// address is refused (`email.header_injection`). The SMTP password never appears in output or errors.
struct EmailSendTool: Tool {
    let name = "email.send"
    let description = "Sends a plain-text email to allowed recipients, optionally attaching workspace files (e.g. SVG charts written by chart.render). Returns the Message-ID."
    let inputSchema = try! JSONSchema([
        "type": "object",
        "properties": [
            "to": ["type": "array", "items": ["type": "string", "minLength": 3, "maxLength": 254], "minItems": 1, "maxItems": 50],
            "cc": ["type": "array", "items": ["type": "string", "minLength": 3, "maxLength": 254], "maxItems": 50],
            "subject": ["type": "string", "minLength": 1, "maxLength": 200],
            "body": ["type": "string", "maxLength": 200_000, "description": "Plain text."],
            "attachments": ["type": "array", "items": ["type": "string", "minLength": 1], "maxItems": 10,
                            "description": "Workspace paths of files to attach, e.g. `charts/revenue.svg`."],
        ],
        "required": ["to", "subject", "body"],
        "additionalProperties": false,
    ])
    let risk = RiskClass.write
    var rateLimit: RateLimit? { RateLimit(capacity: 10, period: .seconds(3600)) }

    /// Most bytes of attachments in one mail.
    static let maxAttachmentBytes = 10 << 20

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        let settings = try Self.settings(call.environment)
        let recipients = Self.recipients(input)
        var permissions = recipients.map { Permission("email:send", on: $0.lowercased()) }
        var violation: GuardrailViolation?
        let subject = input["subject"]?.string ?? ""
        if let bad = ([subject] + recipients).first(where: EmailMessage.breaksHeader) {
            violation = GuardrailViolation(
                guardrail: "email.header_injection",
                reason: "\(bad == subject ? "the subject" : "a recipient") contains a line break, which would add mail headers; remove it",
                detail: String(bad.prefix(80)).debugDescription)
        }
        if violation == nil, let bad = recipients.first(where: { !EmailMessage.isValidAddress($0) }) {
            throw .invalidInput("`\(bad)` is not a bare email address like name@example.com (display names are not accepted)")
        }
        if violation == nil, let refused = recipients.first(where: { !Self.allowed($0, settings.allowRecipients) }) {
            violation = GuardrailViolation(
                guardrail: "email.recipient_not_allowed",
                reason: settings.allowRecipients.isEmpty
                    ? "no recipient is allowed: `email.allowRecipients` is empty; an administrator must list allowed addresses or patterns like `*@example.com`"
                    : "`\(refused)` is not in `email.allowRecipients` (\(settings.allowRecipients.joined(separator: ", "))); send only to allowed recipients",
                detail: refused)
        }
        if input["attachments"] != nil {
            let workspace = try call.environment.requireWorkspace()
            for path in input["attachments"]?.array?.compactMap(\.string) ?? [] {
                let confined = try workspace.confine(path, for: .read)
                permissions.append(Permission("file:read", on: confined.resource))
                if violation == nil { violation = confined.violation }
            }
        }
        return ToolPlan(permissions: permissions, risk: .write, violation: violation, executingAs: settings.username ?? "")
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let settings = try Self.settings(context.environment)
        let server = try CurlURL.parse(settings.smtpURL, schemes: ["smtp", "smtps"])
        guard !server.hasCredentials else {
            throw ToolError.configuration("the SMTP URL carries credentials; put the user name in `email.username` and the password in its secret setting instead")
        }
        guard let sender = EmailMessage.envelopeAddress(settings.from), !EmailMessage.breaksHeader(settings.from) else {
            throw ToolError.configuration("the configured sender `email.from` is not an address like `Reports <reports@example.com>`; fix it in glassbox.yaml")
        }
        let to = Self.unique(input["to"]?.array?.compactMap(\.string) ?? [])
        let cc = Self.unique(input["cc"]?.array?.compactMap(\.string) ?? []).filter { !to.contains($0) }
        let subject = input["subject"]?.string ?? ""
        let body = input["body"]?.string ?? ""

        var attachments: [(name: String, path: String, data: Data)] = []
        if let paths = input["attachments"]?.array?.compactMap(\.string), !paths.isEmpty {
            let workspace = try context.environment.requireWorkspace()
            for path in paths {
                let file = try workspace.confineAgain(path, for: .read, authorized: context.plan)
                let (data, size, truncated) = try WorkspaceFiles.read(file, maxBytes: workspace.maxFileBytes)
                guard !truncated else {
                    throw ToolError("too_large", "`\(file.requested)` is \(size) bytes, over the workspace limit of \(workspace.maxFileBytes); attach smaller files")
                }
                attachments.append((file.name, file.resolved, data))
            }
            let total = attachments.reduce(0) { $0 + $1.data.count }
            guard total <= Self.maxAttachmentBytes else {
                throw ToolError("too_large", "the attachments total \(total) bytes, over the \(Self.maxAttachmentBytes) bytes one mail carries; attach fewer files")
            }
        }

        let messageID = EmailMessage.messageID(sender: sender)
        let headers = EmailMessage.headers(from: settings.from, to: to, cc: cc, subject: subject, date: Date(), messageID: messageID)
        let transfer = try CurlTransfer(maxBodyBytes: 64 << 10)
        let milliseconds = Int(settings.timeout.components.seconds * 1000 + settings.timeout.components.attoseconds / 1_000_000_000_000_000)
        do {
            try transfer.set(CURLOPT_URL, settings.smtpURL)
            try transfer.set(CURLOPT_PROTOCOLS_STR, "smtp,smtps")
            try transfer.set(CURLOPT_PROXY, "")
            try transfer.set(CURLOPT_TIMEOUT_MS, max(1, milliseconds))
            try transfer.set(CURLOPT_MAIL_FROM, "<\(sender)>")
            try transfer.set(CURLOPT_MAIL_RCPT, list: (to + cc).map { "<\($0)>" })
            if let username = settings.username { try transfer.set(CURLOPT_USERNAME, username) }
            if let password = settings.password { try transfer.set(CURLOPT_PASSWORD, password) }
            // A password is never sent in the clear: with one, STARTTLS is required on smtp://.
            let tls = server.scheme == "smtps" ? CURLUSESSL_ALL : settings.password == nil ? CURLUSESSL_TRY : CURLUSESSL_ALL
            try transfer.set(CURLOPT_USE_SSL, Int(tls.rawValue))
            try transfer.set(CURLOPT_HTTPHEADER, list: headers)
            try transfer.setMIME { mime in
                let text = curl_mime_addpart(mime)
                try Self.check(curl_mime_data(text, body, body.utf8.count))
                try Self.check(curl_mime_type(text, "text/plain; charset=utf-8"))
                try Self.check(curl_mime_encoder(text, "quoted-printable"))
                for attachment in attachments {
                    let part = curl_mime_addpart(mime)
                    try attachment.data.withUnsafeBytes { raw throws in
                        try Self.check(curl_mime_data(part, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count))
                    }
                    try Self.check(curl_mime_filename(part, attachment.name))
                    try Self.check(curl_mime_type(part, EmailMessage.mediaType(forFileName: attachment.name)))
                    try Self.check(curl_mime_encoder(part, "base64"))
                }
            }
        } catch {
            throw ToolError("io_error", Self.redact("could not prepare the mail: \(error)", settings))
        }

        let code = await transfer.perform()
        if code == CURLE_ABORTED_BY_CALLBACK || Task.isCancelled { throw ToolError("cancelled", "sending the mail was cancelled") }
        guard code == CURLE_OK else {
            let place = "\(server.scheme)://\(server.host):\(server.port)"
            let detail = transfer.errorText.isEmpty ? CurlTransfer.describe(code) : transfer.errorText
            let kind = code == CURLE_OPERATION_TIMEDOUT ? "timeout" : "upstream_error"
            let hint = code == CURLE_LOGIN_DENIED ? "check `email.username` and the password"
                : "check that the SMTP server is reachable and accepts these recipients, then try again"
            throw ToolError(kind, Self.redact("the mail server \(place) did not accept the mail: \(detail); \(hint)", settings),
                            retryable: code != CURLE_LOGIN_DENIED)
        }
        return ToolOutput([
            "message_id": .string(messageID),
            "to": .array(to.map(JSONValue.string)),
            "cc": .array(cc.map(JSONValue.string)),
            "subject": .string(subject),
            "attachments": .array(attachments.map { ["path": .string($0.path), "bytes": .integer(Int64($0.data.count))] }),
        ])
    }

    private static func settings(_ environment: ToolEnvironment) throws(ToolError) -> EmailSettings {
        guard let settings = environment.email else {
            throw .configuration("email.send is not configured; set `email:` (smtp url, from, allowed recipients) in glassbox.yaml")
        }
        return settings
    }

    private static func recipients(_ input: JSONValue) -> [String] {
        unique(((input["to"]?.array ?? []) + (input["cc"]?.array ?? [])).compactMap(\.string))
    }

    private static func unique<T: Hashable>(_ items: [T]) -> [T] {
        var seen = Set<T>()
        return items.filter { seen.insert($0).inserted }
    }

    static func allowed(_ address: String, _ patterns: [String]) -> Bool {
        patterns.contains { (try? ResourcePattern($0))?.matches(address, ignoringCase: true) ?? false }
    }

    private static func check(_ code: CURLcode) throws(CurlTransfer.SetupError) {
        guard code == CURLE_OK else { throw CurlTransfer.SetupError(description: CurlTransfer.describe(code)) }
    }

    /// Removes the password (and any credentials in the server URL) from a message.
    static func redact(_ message: String, _ settings: EmailSettings) -> String {
        var text = message
        if let password = settings.password, !password.isEmpty { text = text.replacingOccurrences(of: password, with: "[redacted]") }
        return text
    }
}
