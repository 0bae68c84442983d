import CGlassboxCurl
import Foundation
import Security

/// `http.fetch`: GET or HEAD of an http(s) URL on an allowed host, with server-side request forgery
/// defences.
///
/// - The host must match `http.allowHosts` (guardrail `http.host_not_allowed`), and must not be a
///   numeric private address or a name reserved for this machine or a metadata service
///   (`http.private_address`) unless it matches `http.allowPrivateHosts`. Both are checked in `plan`.
/// - At execution the name is resolved and every address checked (an address of a name is refused with
///   a `refused` error naming `http.private_address`). libcurl is then pinned to the checked addresses
///   (`CURLOPT_RESOLVE`), and a socket callback refuses any other address, so DNS cannot change the
///   answer between the check and the connection. Proxies from the environment are ignored.
/// - Redirects are followed, at most 5, only on the same host (each hop's addresses checked again); a
///   redirect to another host is returned as is, with its `location`, for a new, separately authorized call.
/// - The body is capped at `maxBytes` (`truncated: true`) and the whole call at `timeout`.
///
/// Needs `http:fetch` on the host (lowercase, without port).
struct HTTPFetchTool: Tool {
    let name = "http.fetch"
    let description = "Fetches an http(s) URL with GET (or HEAD) from an allowed host. Returns status, content type and length, and the body as text (base64 for binary), cut at a size limit."
    let inputSchema = try! JSONSchema([
        "type": "object",
        "properties": [
            "url": ["type": "string", "minLength": 1, "maxLength": 8192, "description": "A full http:// or https:// URL."],
            "method": ["type": "string", "enum": ["GET", "HEAD"], "default": "GET"],
            "max_bytes": ["type": "integer", "minimum": 1, "description": "Keep at most this many body bytes (never more than configured)."],
        ],
        "required": ["url"],
        "additionalProperties": false,
    ])
    let risk = RiskClass.read
    var rateLimit: RateLimit? { RateLimit(capacity: 30, period: .seconds(60)) }

    static let maxRedirects = 5

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        let url = try CurlURL.parse(input["url"]?.string ?? "")
        guard !url.hasCredentials else {
            throw .invalidInput("the URL carries a user name or password; credentials in URLs are not supported (they would be recorded)")
        }
        let host = AddressGuard.normalize(url.host)
        let violation = AddressGuard(call.environment.http).check(host: host)
        return ToolPlan(permissions: [Permission("http:fetch", on: host)], risk: .read, violation: violation)
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let settings = context.environment.http
        let guardrails = AddressGuard(settings)
        let method = input["method"]?.string ?? "GET"
        let maxBytes = min(settings.maxBytes, Int(clamping: input["max_bytes"]?.integer ?? Int64(settings.maxBytes)))
        let requested = input["url"]?.string ?? ""
        var url = try CurlURL.parse(requested)
        let host = AddressGuard.normalize(url.host)
        var redirects: [JSONValue] = []

        while true {
            if let violation = guardrails.check(host: url.host) { throw ToolError("refused", "\(violation.guardrail): \(violation.reason)") }
            let addresses = try await Self.checkedAddresses(of: url.host, guardrails)
            let response = try await Self.transfer(url, addresses: addresses, method: method, maxBytes: maxBytes, timeout: settings.timeout)
            if (300..<400).contains(response.status), let location = response.location {
                let next = try? CurlURL.parse(location)
                if let next, AddressGuard.normalize(next.host) == host, redirects.count < Self.maxRedirects {
                    redirects.append(.string(next.text))
                    url = next
                    continue
                }
            }
            return ToolOutput(response.json(requested: requested, final: url, redirects: redirects))
        }
    }

    /// Resolves `host` off the concurrency pool and checks every address.
    private static func checkedAddresses(of host: String, _ guardrails: AddressGuard) async throws(ToolError) -> [IPAddress] {
        let resolved = await DedicatedThread.run(name: "glassbox-resolve") { AddressGuard.resolve(host) }
        switch resolved {
        case .failure(let error):
            throw ToolError("upstream_error", error.description, retryable: true)
        case .success(let addresses):
            if let violation = guardrails.check(host: host, resolvedTo: addresses) {
                throw ToolError("refused", "\(violation.guardrail): \(violation.reason)")
            }
            return addresses
        }
    }

    struct Response {
        var status: Int
        var headers: [String: String]
        var body: Data
        var truncated: Bool
        var location: String?

        func json(requested: String, final: CurlURL, redirects: [JSONValue]) -> JSONValue {
            var selected: [String: JSONValue] = [:]
            for name in ["content-type", "content-length", "last-modified", "etag"] {
                if let value = headers[name] { selected[name] = .string(value) }
            }
            var output: [String: JSONValue] = [
                "url": .string(requested), "final_url": .string(final.text), "status": .integer(Int64(status)),
                "headers": .object(selected), "bytes": .integer(Int64(body.count)), "truncated": .bool(truncated),
                "redirects": .array(redirects),
            ]
            if let location { output["location"] = .string(location) }
            if let text = HTTPBody.text(body, contentType: headers["content-type"], mayBeCut: truncated) {
                output["encoding"] = "text"
                output["body"] = .string(text)
            } else {
                output["encoding"] = "base64"
                output["body"] = .string(body.base64EncodedString())
            }
            return .object(output)
        }
    }

    /// One request, pinned to `addresses`.
    private static func transfer(_ url: CurlURL, addresses: [IPAddress], method: String, maxBytes: Int, timeout: Duration) async throws(ToolError) -> Response {
        let transfer = try CurlTransfer(maxBodyBytes: maxBytes)
        let milliseconds = Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        do {
            try transfer.set(CURLOPT_URL, url.text)
            try transfer.set(CURLOPT_PROTOCOLS_STR, "http,https")
            try transfer.set(CURLOPT_FOLLOWLOCATION, 0)
            // An empty proxy disables proxies, including those named by environment variables.
            try transfer.set(CURLOPT_PROXY, "")
            try transfer.set(CURLOPT_TIMEOUT_MS, max(1, milliseconds))
            try transfer.set(CURLOPT_CONNECTTIMEOUT_MS, max(1, min(milliseconds, 10_000)))
            try transfer.set(CURLOPT_USERAGENT, "Glassbox http.fetch")
            try transfer.set(CURLOPT_ACCEPT_ENCODING, "")
            if method == "HEAD" { try transfer.set(CURLOPT_NOBODY, 1) }
            if IPAddress(url.host) == nil {
                let pinned = addresses.map { $0.isIPv4 ? $0.description : "[\($0.description)]" }.joined(separator: ",")
                try transfer.set(CURLOPT_RESOLVE, list: ["\(url.host):\(url.port):\(pinned)"])
            }
            try transfer.allowOnly(addresses: addresses.map(\.description))
        } catch {
            throw ToolError("io_error", "could not set up the request: \(error)")
        }
        let code = await transfer.perform()
        if code == CURLE_ABORTED_BY_CALLBACK || Task.isCancelled { throw ToolError("cancelled", "the fetch was cancelled") }
        let truncated = transfer.bodyTruncated
        guard code == CURLE_OK || (code == CURLE_WRITE_ERROR && truncated) else {
            if let refused = transfer.refusedAddress {
                throw ToolError("refused", "http.private_address: the connection went to \(refused), which was not among the checked addresses; try again")
            }
            if code == CURLE_OPERATION_TIMEDOUT {
                throw ToolError("timeout", "`\(url.host)` did not answer within \(timeout); try again later or fetch something smaller", retryable: true)
            }
            let detail = transfer.errorText.isEmpty ? CurlTransfer.describe(code) : transfer.errorText
            let retryable = [CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING].contains(code)
            throw ToolError("upstream_error", "fetching \(url.text) failed: \(detail)", retryable: retryable)
        }
        return Response(status: transfer.info(CURLINFO_RESPONSE_CODE) ?? 0, headers: transfer.headers, body: transfer.body,
                        truncated: truncated, location: transfer.info(string: CURLINFO_REDIRECT_URL))
    }
}

/// Deciding how to return a response body.
enum HTTPBody {
    static let textualTypes: Set<String> = [
        "application/json", "application/xml", "application/javascript", "application/x-ndjson", "application/yaml",
        "application/x-yaml", "application/csv", "application/sql", "image/svg+xml",
    ]

    /// The body as text when its type is textual (or absent) and its bytes decode; else nil (send base64).
    static func text(_ body: Data, contentType: String?, mayBeCut: Bool) -> String? {
        guard let contentType else { return TextBody.utf8(body, mayBeCut: mayBeCut) }
        let parts = contentType.lowercased().split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        let type = parts.first ?? ""
        guard type.hasPrefix("text/") || type.hasSuffix("+json") || type.hasSuffix("+xml") || textualTypes.contains(type) else { return nil }
        let charset = parts.dropFirst().first { $0.hasPrefix("charset=") }.map { String($0.dropFirst(8)).trimmingCharacters(in: CharacterSet(charactersIn: "\"'")) }
        switch charset {
        case nil, "utf-8", "utf8", "us-ascii":
            return TextBody.utf8(body, mayBeCut: mayBeCut)
        case "iso-8859-1", "latin1", "windows-1252":
            return String(data: body, encoding: charset == "windows-1252" ? .windowsCP1252 : .isoLatin1)
        default:
            return nil
        }
    }
}
