import EventLog
import Foundation
import Security
import Testing
@testable import Tools

/// aiosmtpd delivering into a maildir.
struct LocalSMTPServer {
    let peer: PeerProcess
    let port: Int
    let maildir: String
    let python: String

    static func start(in folder: String) async throws -> LocalSMTPServer {
        let python = try pythonPeer(with: "aiosmtpd")
        let port = freePort()
        let maildir = folder + "/maildir"
        let peer = try PeerProcess(python, ["-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Mailbox", maildir])
        try await waitForPort(port)
        return LocalSMTPServer(peer: peer, port: port, maildir: maildir, python: python)
    }

    var url: String { "smtp://127.0.0.1:\(port)" }

    /// The delivered messages, parsed by Python's `email` package into
    /// `{headers: {name: value}, raw_headers, body, attachments: [{filename, type, base64}]}`.
    func messages() throws -> [JSONValue] {
        let folder = maildir + "/new"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return try names.sorted().map { name in
            let script = #"""
            import email, email.policy, json, sys, base64
            raw = open(sys.argv[1], 'rb').read()
            m = email.message_from_bytes(raw, policy=email.policy.default)
            body = m.get_body(preferencelist=('plain',))
            out = {'headers': {k: str(v) for k, v in m.items()}, 'raw_headers': raw.split(b'\r\n\r\n')[0].split(b'\n\n')[0].decode('utf-8', 'replace'),
                   'body': body.get_content() if body else None, 'attachments': []}
            for part in m.iter_attachments():
                out['attachments'].append({'filename': part.get_filename(), 'type': part.get_content_type(),
                                           'base64': base64.b64encode(part.get_payload(decode=True)).decode()})
            print(json.dumps(out))
            """#
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = ["-c", script, folder + "/" + name]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return try JSONValue(parsing: String(decoding: data, as: UTF8.self))
        }
    }
}

extension EmailTests {
    @Suite struct Message {
        @Test func addresses() {
            for good in ["cfo@example.com", "first.last+tag@sub.example.co", "ops@localhost", "o'brien@example.ie"] {
                #expect(EmailMessage.isValidAddress(good), "\(good)")
            }
            for bad in ["", "no-at", "a@b@c", "Alice <a@example.com>", "a@example.com, b@example.com", ".a@example.com", "a..b@example.com",
                        "a@-example.com", "a@exa mple.com", "a@", "@example.com", "a@example..com"] {
                #expect(!EmailMessage.isValidAddress(bad), "\(bad)")
            }
            #expect(EmailMessage.envelopeAddress("Reports <reports@example.com>") == "reports@example.com")
            #expect(EmailMessage.envelopeAddress("reports@example.com") == "reports@example.com")
            #expect(EmailMessage.envelopeAddress("Reports") == nil)
        }

        @Test func headerInjection() {
            #expect(EmailMessage.breaksHeader("Hi\r\nBcc: spy@evil.example"))
            #expect(EmailMessage.breaksHeader("x\ny"))
            #expect(EmailMessage.breaksHeader("x\ry"))
            #expect(!EmailMessage.breaksHeader("Weekly revenue — up 4%"))
        }

        @Test func headersAndEncodedSubjects() throws {
            let date = Date(timeIntervalSince1970: 1_751_371_200)  // 2025-07-01 12:00:00 UTC
            #expect(EmailMessage.dateHeader(date) == "Tue, 01 Jul 2025 12:00:00 +0000")
            let id = EmailMessage.messageID(sender: "reports@example.com", id: UUID(uuidString: "0190A6C4-0000-7000-8000-000000000001")!)
            #expect(id == "<0190a6c4-0000-7000-8000-000000000001@example.com>")
            #expect(EmailMessage.encodedSubject("Plain subject") == "Plain subject")

            let subject = "Umsatz im Juli: 12 % über Plan — ✓ geprüft, Bericht anbei für das gesamte Team"
            let encoded = EmailMessage.encodedSubject(subject)
            let words = encoded.components(separatedBy: "\r\n ")
            #expect(words.count > 1)
            var decoded = Data()
            for word in words {
                #expect(word.count <= 75)
                #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
                decoded.append(try #require(Data(base64Encoded: String(word.dropFirst(10).dropLast(2)))))
            }
            #expect(String(decoding: decoded, as: UTF8.self) == subject)

            let headers = EmailMessage.headers(from: "Reports <reports@example.com>", to: ["a@example.com", "b@example.com"], cc: [],
                                               subject: "Hi", date: date, messageID: id)
            #expect(headers == ["Date: Tue, 01 Jul 2025 12:00:00 +0000", "From: Reports <reports@example.com>", "To: a@example.com, b@example.com",
                                "Message-ID: \(id)", "Subject: Hi"])
            #expect(EmailMessage.mediaType(forFileName: "revenue.SVG") == "image/svg+xml")
        }
    }
}

@Suite(.serialized) struct EmailTests {
    static func environment(_ fx: WorkspaceFixture, url: String, password: String? = nil) -> ToolEnvironment {
        ToolEnvironment(workspace: fx.workspace,
                        email: EmailSettings(smtpURL: url, from: "Glassbox Reports <reports@example.com>",
                                             username: password == nil ? nil : "reports", password: password,
                                             allowRecipients: ["*@example.com", "auditor@partner.example"], timeout: .seconds(10)))
    }

    @Test func deliversAMailWithAChartAttached() async throws {
        let fx = try WorkspaceFixture()
        defer { fx.remove() }
        let server = try await LocalSMTPServer.start(in: fx.outside)
        defer { server.peer.stop() }
        let h = try await makeHarness(policy: allowAllPolicy, environment: Self.environment(fx, url: server.url))
        defer { h.remove() }

        let chart = await h.call("chart.render", ["kind": "bar", "title": "Revenue", "x": "month", "y": "revenue", "data": revenueData,
                                                  "path": "charts/revenue.svg"], as: "user:alice")
        #expect(chart.status == .completed, "\(chart.message ?? "")")
        let sent = await h.call("email.send", [
            "to": ["cfo@example.com"], "cc": ["auditor@partner.example"],
            "subject": "Revenue for Q1 — über Plan ✓", "body": "Hello,\n\nthe chart is attached.\nLine with = sign and ümlaut.\n",
            "attachments": ["charts/revenue.svg"],
        ], as: "user:alice")
        #expect(sent.status == .completed, "\(sent.message ?? "")")
        #expect(try await h.eventTypes(of: sent.callID) == completedSequence)
        let messageID = try #require(sent.output?["message_id"]?.string)

        let messages = try server.messages()
        #expect(messages.count == 1)
        let mail = try #require(messages.first)
        #expect(mail["headers"]?["From"] == "Glassbox Reports <reports@example.com>")
        #expect(mail["headers"]?["To"] == "cfo@example.com")
        #expect(mail["headers"]?["Cc"] == "auditor@partner.example")
        #expect(mail["headers"]?["Subject"] == "Revenue for Q1 — über Plan ✓")
        #expect(mail["headers"]?["Message-ID"] == .string(messageID))
        #expect(mail["headers"]?["Date"]?.string?.hasSuffix("+0000") == true)
        #expect(mail["headers"]?["X-RcptTo"]?.string?.contains("auditor@partner.example") == true)
        #expect(mail["body"]?.string?.replacingOccurrences(of: "\r\n", with: "\n") == "Hello,\n\nthe chart is attached.\nLine with = sign and ümlaut.\n")
        let attachment = try #require(mail["attachments"]?.array?.first)
        #expect(attachment["filename"] == "revenue.svg")
        #expect(attachment["type"] == "image/svg+xml")
        let svg = try #require(Data(base64Encoded: attachment["base64"]?.string ?? ""))
        #expect(svg == FileManager.default.contents(atPath: fx.root + "/charts/revenue.svg"))
    }

    @Test func recipientsMustBeAllowed() async throws {
        let fx = try WorkspaceFixture()
        defer { fx.remove() }
        let h = try await makeHarness(policy: allowAllPolicy, environment: Self.environment(fx, url: "smtp://127.0.0.1:1"))
        defer { h.remove() }
        let refused = await h.call("email.send", ["to": ["cfo@example.com", "leak@evil.example"], "subject": "x", "body": "y"], as: "user:alice")
        #expect(refused.status == .denied)
        #expect(refused.rule == "email.recipient_not_allowed")
        #expect(refused.message?.contains("leak@evil.example") == true)
        #expect(try await h.eventTypes(of: refused.callID) == blockedSequence)

        let injected = await h.call("email.send", ["to": ["cfo@example.com"], "subject": "Hi\r\nBcc: leak@evil.example", "body": "y"], as: "user:alice")
        #expect(injected.rule == "email.header_injection")
        #expect(try await h.eventTypes(of: injected.callID) == blockedSequence)
        let injectedAddress = await h.call("email.send", ["to": ["cfo@example.com\nBcc: leak@evil.example"], "subject": "Hi", "body": "y"], as: "user:alice")
        #expect(injectedAddress.rule == "email.header_injection")

        let displayName = await h.call("email.send", ["to": ["CFO <cfo@example.com>"], "subject": "Hi", "body": "y"], as: "user:alice")
        #expect(displayName.stage == "validation")

        let attachmentOutside = await h.call("email.send", ["to": ["cfo@example.com"], "subject": "Hi", "body": "y",
                                                            "attachments": ["../outside/secret.txt"]], as: "user:alice")
        #expect(attachmentOutside.rule == "file.outside_workspace")
    }

    @Test func needsEmailSendOnEachRecipient() async throws {
        let fx = try WorkspaceFixture()
        defer { fx.remove() }
        let policy = """
            version: 1
            roles:
              mailer: {grants: [{action: "email:send", resource: "*@example.com"}]}
            principals:
              user:bob: {roles: [mailer]}
            """
        let h = try await makeHarness(policy: policy, environment: Self.environment(fx, url: "smtp://127.0.0.1:1"))
        defer { h.remove() }
        let result = await h.call("email.send", ["to": ["cfo@example.com"], "cc": ["auditor@partner.example"], "subject": "x", "body": "y"], as: "user:bob")
        #expect(result.stage == "authorization")
        #expect(try await h.eventTypes(of: result.callID) == ["tool.requested", "tool.denied"])
    }

    @Test func thePasswordNeverAppearsInErrors() async throws {
        let fx = try WorkspaceFixture()
        defer { fx.remove() }
        let password = "pa55-Word-7781"
        // Nothing listens on a fresh port: the delivery fails, and the failure is recorded.
        let closed = try await makeHarness(policy: allowAllPolicy, environment: Self.environment(fx, url: "smtp://127.0.0.1:\(freePort())", password: password))
        defer { closed.remove() }
        let result = await closed.call("email.send", ["to": ["cfo@example.com"], "subject": "x", "body": "y"], as: "user:alice")
        #expect(result.status == .failed)
        #expect(result.errorType == "upstream_error")
        #expect(result.message?.contains(password) == false)
        let events = try await closed.events(of: result.callID)
        #expect(!events.contains { $0.data.contains(password) })

        // A server without STARTTLS: with a password, Glassbox refuses to send it in the clear.
        let server = try await LocalSMTPServer.start(in: fx.outside)
        defer { server.peer.stop() }
        let plain = try await makeHarness(policy: allowAllPolicy, environment: Self.environment(fx, url: server.url, password: password))
        defer { plain.remove() }
        let refused = await plain.call("email.send", ["to": ["cfo@example.com"], "subject": "x", "body": "y"], as: "user:alice")
        #expect(refused.status == .failed)
        #expect(refused.message?.contains(password) == false)
        #expect(try server.messages().isEmpty)
    }

    @Test func withoutEmailSettingsTheToolSaysHowToConfigureIt() async throws {
        let h = try await makeHarness(policy: allowAllPolicy, environment: ToolEnvironment())
        defer { h.remove() }
        let result = await h.call("email.send", ["to": ["cfo@example.com"], "subject": "x", "body": "y"], as: "user:alice")
        #expect(result.status == .denied)
        #expect(result.message?.contains("email:") == true)
    }
}
