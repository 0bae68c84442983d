import CGlassboxCurl
import Foundation
import Security
import Testing
@testable import Tools

// MARK: - Peers (real programs the tool tests talk to), shared by the git, HTTP and email tests

/// The path of an executable found on PATH (or the absolute path given), or nil.
func findExecutable(_ name: String) -> String? {
    if name.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for folder in path.split(separator: ":") {
        let candidate = "\(folder)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// Returns `found`, or skips the test with `why` — or fails it when `GLASSBOX_REQUIRE_PEERS=1` (as in CI).
func requirePeer<T>(_ found: T?, _ why: String) throws -> T {
    if let found { return found }
    if ProcessInfo.processInfo.environment["GLASSBOX_REQUIRE_PEERS"] == "1" {
        throw PeerMissing(why: "\(why) (GLASSBOX_REQUIRE_PEERS=1 requires every peer)")
    }
    try Test.cancel("skipped: \(why); install it, or set GLASSBOX_REQUIRE_PEERS=1 to make this a failure")
}

struct PeerMissing: Error, CustomStringConvertible {
    var why: String
    var description: String { why }
}

/// python3, when it can import `module` (if given).
func pythonPeer(with module: String? = nil) throws -> String {
    let python = try requirePeer(findExecutable("python3"), "python3 is not installed")
    if let module {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: python)
        check.arguments = ["-c", "import \(module)"]
        check.standardError = FileHandle.nullDevice
        try check.run()
        check.waitUntilExit()
        _ = try requirePeer(check.terminationStatus == 0 ? true : nil, "the Python module `\(module)` is not installed (pip install \(module))")
    }
    return python
}

/// A child process the test talks to, stopped when the test ends.
final class PeerProcess: @unchecked Sendable {
    // @unchecked: used from one test at a time; Process itself is thread-safe for terminate.
    let process = Process()
    private let output = Pipe()

    init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// The first line the process prints (the servers below print their port).
    func firstLine() throws -> String {
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), let first = byte.first, first != 10 {
            line.append(first)
        }
        return String(decoding: line, as: UTF8.self)
    }

    /// Kills the process (SIGKILL: a child of the test runner may inherit SIGTERM as blocked).
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port` (at most about 10 s).
func waitForPort(_ port: Int) async throws {
    for _ in 0..<200 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        close(fd)
        if connected == 0 { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw PeerMissing(why: "nothing listens on 127.0.0.1:\(port)")
}

/// A port that was free a moment ago.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

// MARK: - A local HTTP server

/// Python's http.server with a few routes; prints its port.
let httpServerScript = #"""
import http.server, sys, time, json
class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args): pass
    def do_HEAD(self): self.route(False)
    def do_GET(self): self.route(True)
    def reply(self, status, kind, body, send, extra=()):
        self.send_response(status)
        if kind: self.send_header('Content-Type', kind)
        for name, value in extra: self.send_header(name, value)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if send: self.wfile.write(body)
    def route(self, send):
        p = self.path
        if p == '/text': self.reply(200, 'text/plain; charset=utf-8', 'hello from glassbox \u2713'.encode(), send)
        elif p == '/json': self.reply(200, 'application/json', json.dumps({'ok': True, 'n': 3}).encode(), send)
        elif p == '/big': self.reply(200, 'text/plain', b'x' * 100000, send)
        elif p == '/binary': self.reply(200, 'application/octet-stream', bytes(range(256)), send)
        elif p == '/latin1': self.reply(200, 'text/plain; charset=iso-8859-1', 'caf\u00e9'.encode('latin-1'), send)
        elif p == '/redirect-same': self.reply(302, None, b'', send, [('Location', '/text')])
        elif p == '/redirect-loop': self.reply(302, None, b'', send, [('Location', '/redirect-loop')])
        elif p == '/redirect-away': self.reply(302, None, b'', send, [('Location', 'http://elsewhere.example/x')])
        elif p == '/slow':
            time.sleep(8)
            self.reply(200, 'text/plain', b'late', send)
        else: self.reply(404, 'text/plain', b'not here', send)
server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
"""#

struct LocalHTTPServer {
    let peer: PeerProcess
    let port: Int

    static func start() async throws -> LocalHTTPServer {
        let peer = try PeerProcess(try pythonPeer(), ["-c", httpServerScript])
        guard let port = Int(try peer.firstLine()) else { throw PeerMissing(why: "the test HTTP server did not print its port") }
        try await waitForPort(port)
        return LocalHTTPServer(peer: peer, port: port)
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }
}

// MARK: - AddressGuard: the pure SSRF checks

extension HTTPFetchTests {
    @Suite struct AddressGuardChecks {
        @Test(arguments: [
            ("127.0.0.1", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"),
            ("127.1", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("10.0.0.1.", "10.0.0.1"), ("[::1]", "::1"),
            ("::ffff:127.0.0.1", "::ffff:127.0.0.1"), ("fe80::1%eth0", "fe80::1"),
        ])
        func numericFormsParse(text: String, canonical: String) throws {
            let address = try #require(IPAddress(text))
            #expect(address.description == canonical)
        }

        @Test(arguments: ["example.com", "1.2.3.4.5", "256.1.1.1", "1.256.1.1", "0x1g.0.0.1", "", "::g", "127.0.0.1 "])
        func namesAreNotAddresses(text: String) {
            #expect(IPAddress(text) == nil)
        }

        @Test(arguments: [
            ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("::1", "loopback"), ("10.0.0.1", "private"),
            ("172.16.5.4", "private"), ("172.31.255.255", "private"), ("192.168.1.1", "private"), ("169.254.169.254", "link-local"),
            ("100.64.0.1", "shared (CGNAT)"), ("100.100.100.200", "shared (CGNAT)"), ("0.0.0.0", "unspecified"), ("::", "unspecified"),
            ("fc00::1", "private"), ("fd12:3456::1", "private"), ("fe80::1", "link-local"), ("224.0.0.1", "multicast"),
            ("255.255.255.255", "reserved"), ("::ffff:127.0.0.1", "loopback (127.0.0.1 inside IPv6)"),
            ("::ffff:169.254.169.254", "link-local (169.254.169.254 inside IPv6)"), ("64:ff9b::a00:1", "private (10.0.0.1 inside IPv6)"),
            ("2002:7f00:1::", "loopback (127.0.0.1 inside IPv6)"), ("::7f00:1", "reserved (IPv4-compatible)"),
            ("2130706433", "loopback"), ("0x7f.1", "loopback"), ("ff02::1", "multicast"),
        ])
        func restrictedAddresses(text: String, why: String) throws {
            #expect(AddressGuard.restriction(of: try #require(IPAddress(text))) == why)
        }

        @Test(arguments: ["8.8.8.8", "1.1.1.1", "172.32.0.1", "172.15.255.255", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2002:808:808::"])
        func publicAddresses(text: String) throws {
            #expect(AddressGuard.restriction(of: try #require(IPAddress(text))) == nil)
        }

        @Test func hostPatterns() {
            let guardrails = AddressGuard(allowHosts: ["*.example.com", "api.github.com"], allowPrivateHosts: [])
            #expect(guardrails.check(host: "data.example.com") == nil)
            #expect(guardrails.check(host: "A.B.Example.COM.") == nil)
            #expect(guardrails.check(host: "api.github.com") == nil)
            #expect(guardrails.check(host: "example.com")?.guardrail == "http.host_not_allowed")
            #expect(guardrails.check(host: "evilexample.com")?.guardrail == "http.host_not_allowed")
            #expect(guardrails.check(host: "api.github.com.evil.net")?.guardrail == "http.host_not_allowed")
            #expect(AddressGuard(allowHosts: [], allowPrivateHosts: []).check(host: "example.com")?.reason.contains("allowHosts") == true)
        }

        @Test func privateHostsAreRefusedUnlessAllowed() {
            let strict = AddressGuard(allowHosts: ["*"], allowPrivateHosts: [])
            for host in ["127.0.0.1", "::1", "[::1]", "169.254.169.254", "10.0.0.1", "2130706433", "0x7f.1", "::ffff:127.0.0.1",
                         "localhost", "LOCALHOST.", "db.localhost", "metadata.google.internal", "ip6-localhost"] {
                #expect(strict.check(host: host)?.guardrail == "http.private_address", "\(host)")
            }
            #expect(strict.check(host: "example.com") == nil)
            let local = AddressGuard(allowHosts: ["*"], allowPrivateHosts: ["127.0.0.1", "localhost"])
            #expect(local.check(host: "127.0.0.1") == nil)
            #expect(local.check(host: "localhost") == nil)
            #expect(local.check(host: "10.0.0.1")?.guardrail == "http.private_address")
        }

        @Test func everyResolvedAddressMustBePublic() throws {
            let guardrails = AddressGuard(allowHosts: ["*"], allowPrivateHosts: [])
            let publicOnes = [try #require(IPAddress("93.184.216.34")), try #require(IPAddress("2606:2800:220:1::1"))]
            #expect(guardrails.check(host: "example.com", resolvedTo: publicOnes) == nil)
            let mixed = publicOnes + [try #require(IPAddress("10.1.2.3"))]
            let violation = try #require(guardrails.check(host: "example.com", resolvedTo: mixed))
            #expect(violation.guardrail == "http.private_address")
            #expect(violation.reason.contains("resolves to 10.1.2.3"))
        }

        @Test func localhostResolvesToLoopback() throws {
            let addresses = try AddressGuard.resolve("localhost").get()
            #expect(!addresses.isEmpty)
            #expect(addresses.allSatisfy { AddressGuard.restriction(of: $0) == "loopback" })
            #expect(throws: AddressGuard.ResolutionError.self) { try AddressGuard.resolve("no-such-host.invalid").get() }
        }

        @Test func libcurlReadsTheHostTheGuardChecks() throws {
            for url in ["http://2130706433/", "http://0x7f.1/", "http://[::ffff:127.0.0.1]/", "http://127.1:8080/x"] {
                let parsed = try CurlURL.parse(url)
                let address = try #require(IPAddress(parsed.host), "\(url) → \(parsed.host)")
                #expect(AddressGuard.restriction(of: address)?.hasPrefix("loopback") == true, "\(url)")
            }
            #expect(throws: ToolError.self) { try CurlURL.parse("file:///etc/passwd") }
            #expect(throws: ToolError.self) { try CurlURL.parse("gopher://example.com/") }
            #expect(throws: ToolError.self) { try CurlURL.parse("example.com/no-scheme") }
            #expect(try CurlURL.parse("https://user:pw@example.com/").hasCredentials)
            #expect(try CurlURL.parse("https://example.com/").port == 443)
        }
    }
}

// MARK: - http.fetch through the guard

@Suite(.serialized) struct HTTPFetchTests {
    static func environment(_ server: LocalHTTPServer? = nil, allowHosts: [String] = ["127.0.0.1"], maxBytes: Int = 1 << 20,
                            timeout: Duration = .seconds(10)) -> ToolEnvironment {
        ToolEnvironment(http: HTTPFetchSettings(allowHosts: allowHosts, allowPrivateHosts: server == nil ? [] : ["127.0.0.1"],
                                                maxBytes: maxBytes, timeout: timeout))
    }

    @Test func fetchesTextJSONAndBinaryFromALocalServer() async throws {
        let server = try await LocalHTTPServer.start()
        let h = try await makeHarness(policy: allowAllPolicy, environment: Self.environment(server))
        defer { h.remove() }

        let text = await h.call("http.fetch", ["url": .string(server.url("/text"))], as: "user:alice")
        #expect(text.status == .completed, "\(text.message ?? "")")
        #expect(text.output?["status"] == 200)
        #expect(text.output?["body"] == "hello from glassbox ✓")
        #expect(text.output?["encoding"] == "text")
        #expect(text.output?["headers"]?["content-type"] == "text/plain; charset=utf-8")
        #expect(text.output?["truncated"] == false)
        #expect(try await h.eventTypes(of: text.callID) == ["tool.requested", "tool.authorized", "tool.started", "tool.completed"])

        let json = await h.call("http.fetch", ["url": .string(server.url("/json"))], as: "user:alice")
        let body = try JSONValue(parsing: try #require(json.output?["body"]?.string))
        #expect(body["ok"] == true)

        let binary = await h.call("http.fetch", ["url": .string(server.url("/binary"))], as: "user:alice")
        #expect(binary.output?["encoding"] == "base64")
        #expect(Data(base64Encoded: binary.output?["body"]?.string ?? "") == Data((0...255).map { UInt8($0) }))

        let latin = await h.call("http.fetch", ["url": .string(server.url("/latin1"))], as: "user:alice")
        #expect(latin.output?["body"] == "café")

        let head = await h.call("http.fetch", ["url": .string(server.url("/text")), "method": "HEAD"], as: "user:alice")
        #expect(head.output?["status"] == 200)
        #expect(head.output?["bytes"] == 0)

        let missing = await h.call("http.fetch", ["url": .string(server.url("/nope"))], as: "user:alice")
        #expect(missing.status == .completed)
        #expect(missing.output?["status"] == 404)
    }

    @Test func capsTheBodyAndMarksItTruncated() async throws {
        let server = try await LocalHTTPServer.start()
        let h = try await makeHarness(policy: allowAllPolicy, environment: Self.environment(server, maxBytes: 4096))
        defer { h.remove() }
        let big = await h.call("http.fetch", ["url": .string(server.url("/big"))], as: "user:alice")
        #expect(big.status == .completed, "\(big.message ?? "")")
        #expect(big.output?["truncated"] == true)
        #expect(big.output?["bytes"] == 4096)
        let smaller = await h.call("http.fetch", ["url": .string(server.url("/big")), "max_bytes": 10], as: "user:alice")
        #expect(smaller.output?["body"] == "xxxxxxxxxx")
    }

    @Test func followsSameHostRedirectsOnly() async throws {
        let server = try await LocalHTTPServer.start()
        let h = try await makeHarness(policy: allowAllPolicy, environment: Self.environment(server))
        defer { h.remove() }
        let same = await h.call("http.fetch", ["url": .string(server.url("/redirect-same"))], as: "user:alice")
        #expect(same.output?["status"] == 200)
        #expect(same.output?["body"] == "hello from glassbox ✓")
        #expect(same.output?["redirects"]?.array?.count == 1)
        #expect(same.output?["final_url"]?.string?.hasSuffix("/text") == true)

        let away = await h.call("http.fetch", ["url": .string(server.url("/redirect-away"))], as: "user:alice")
        #expect(away.output?["status"] == 302)
        #expect(away.output?["location"] == "http://elsewhere.example/x")
        #expect(away.output?["redirects"] == [])

        let loop = await h.call("http.fetch", ["url": .string(server.url("/redirect-loop"))], as: "user:alice")
        #expect(loop.output?["status"] == 302)
        #expect(loop.output?["redirects"]?.array?.count == HTTPFetchTool.maxRedirects)
    }

    @Test func aSlowServerTimesOut() async throws {
        let server = try await LocalHTTPServer.start()
        let h = try await makeHarness(policy: allowAllPolicy, environment: Self.environment(server, timeout: .milliseconds(500)))
        defer { h.remove() }
        let slow = await h.call("http.fetch", ["url": .string(server.url("/slow"))], as: "user:alice")
        #expect(slow.status == .failed)
        #expect(slow.errorType == "timeout")
        #expect(try await h.eventTypes(of: slow.callID) == ["tool.requested", "tool.authorized", "tool.started", "tool.failed"])
    }

    @Test func cancellingTheTaskAbortsTheTransfer() async throws {
        let server = try await LocalHTTPServer.start()
        let environment = Self.environment(server, timeout: .seconds(30))
        let call = ToolCall(callID: "c1", caller: Principal(id: "user:alice", kind: .user), agent: nil, environment: environment)
        let tool = HTTPFetchTool()
        let input: JSONValue = ["url": .string(server.url("/slow"))]
        let context = ToolContext(call: call, plan: try tool.plan(input, for: call))
        let task = Task { try await tool.execute(input, context: context) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let error = await #expect(throws: ToolError.self) { try await task.value }
        #expect(error?.kind == "cancelled")
    }

    @Test func connectionsGoOnlyToCheckedAddresses() async throws {
        let server = try await LocalHTTPServer.start()
        let transfer = try CurlTransfer(maxBodyBytes: 1024)
        try transfer.set(CURLOPT_URL, server.url("/text"))
        try transfer.set(CURLOPT_PROXY, "")
        try transfer.allowOnly(addresses: ["127.0.0.2"])
        let code = await transfer.perform()
        #expect(code != CURLE_OK)
        #expect(transfer.refusedAddress == "127.0.0.1")

        let allowed = try CurlTransfer(maxBodyBytes: 1024)
        try allowed.set(CURLOPT_URL, "http://pinned.test:\(server.port)/text")
        try allowed.set(CURLOPT_PROXY, "")
        try allowed.set(CURLOPT_RESOLVE, list: ["pinned.test:\(server.port):127.0.0.1"])
        try allowed.allowOnly(addresses: ["127.0.0.1"])
        #expect(await allowed.perform() == CURLE_OK)
        #expect(String(decoding: allowed.body, as: UTF8.self) == "hello from glassbox ✓")
    }

    @Test(arguments: [
        "http://127.0.0.1/", "http://[::1]/", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://localhost/",
        "http://2130706433/", "http://0x7f.1/", "http://[::ffff:127.0.0.1]/", "http://metadata.google.internal/computeMetadata/v1/",
        "http://0.0.0.0/", "https://192.168.1.1/", "http://[fe80::1]/",
    ])
    func privateTargetsAreGuardrailBlocks(url: String) async throws {
        let h = try await makeHarness(policy: allowAllPolicy, environment: Self.environment(allowHosts: ["*"]))
        defer { h.remove() }
        let result = await h.call("http.fetch", ["url": .string(url)], as: "user:alice")
        #expect(result.status == .denied)
        #expect(result.stage == "guardrail")
        #expect(result.rule == "http.private_address")
        #expect(try await h.eventTypes(of: result.callID) == ["tool.requested", "tool.authorized", "guardrail.blocked", "tool.denied"])
    }

    @Test func aNameResolvingToAPrivateAddressIsRefusedAtConnectTime() async throws {
        // Names outside the reserved list that the system resolves to this machine: the host name
        // (in /etc/hosts on most systems) and Debian's ip6-localhost.
        let candidates = [ProcessInfo.processInfo.hostName, "ip6-localhost", "ip6-loopback"]
        let local = candidates.first { name in
            AddressGuard.restriction(ofName: name) == nil && IPAddress(name) == nil
                && ((try? AddressGuard.resolve(name).get())?.contains { AddressGuard.restriction(of: $0) != nil } ?? false)
        }
        guard let name = local else {
            try Test.cancel("skipped: no name here resolves to a private address (tried \(candidates.joined(separator: ", ")))")
        }
        let h = try await makeHarness(policy: allowAllPolicy, environment: Self.environment(allowHosts: ["*"]))
        defer { h.remove() }
        let result = await h.call("http.fetch", ["url": .string("http://\(name)/")], as: "user:alice")
        #expect(result.status == .failed)
        #expect(result.errorType == "refused")
        #expect(result.message?.contains("http.private_address") == true)
        #expect(try await h.eventTypes(of: result.callID) == ["tool.requested", "tool.authorized", "tool.started", "tool.failed"])
    }

    @Test func hostsOutsideTheAllowListAreBlocked() async throws {
        let h = try await makeHarness(policy: allowAllPolicy, environment: Self.environment(allowHosts: ["*.example.com"]))
        defer { h.remove() }
        let result = await h.call("http.fetch", ["url": "https://example.org/data.csv"], as: "user:alice")
        #expect(result.stage == "guardrail")
        #expect(result.rule == "http.host_not_allowed")
        #expect(try await h.eventTypes(of: result.callID) == ["tool.requested", "tool.authorized", "guardrail.blocked", "tool.denied"])
    }

    @Test func otherSchemesAndCredentialsAreInvalidInput() async throws {
        let h = try await makeHarness(policy: allowAllPolicy, environment: Self.environment(allowHosts: ["*"]))
        defer { h.remove() }
        for url in ["file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/", "https://bob:pw@example.com/"] {
            let result = await h.call("http.fetch", ["url": .string(url)], as: "user:alice")
            #expect(result.status == .denied, "\(url)")
            #expect(result.stage == "validation", "\(url)")
        }
    }

    @Test func needsHTTPFetchOnTheHost() async throws {
        let server = try await LocalHTTPServer.start()
        let policy = """
            version: 1
            roles:
              reader: {grants: [{action: "http:fetch", resource: "api.example.com"}]}
            principals:
              user:bob: {roles: [reader]}
            """
        let h = try await makeHarness(policy: policy, environment: Self.environment(server))
        defer { h.remove() }
        let result = await h.call("http.fetch", ["url": .string(server.url("/text"))], as: "user:bob")
        #expect(result.status == .denied)
        #expect(result.stage == "authorization")
        #expect(try await h.eventTypes(of: result.callID) == ["tool.requested", "tool.denied"])
    }
}
