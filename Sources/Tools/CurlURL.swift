import CGlassboxCurl

/// A URL as libcurl parses it. Parsing with the same parser that later connects avoids the classic
/// server-side request forgery trick of a URL two parsers read differently.
struct CurlURL: Sendable, Hashable {
    /// The whole URL, normalized by libcurl.
    var text: String
    /// `http` or `https` (lowercase).
    var scheme: String
    /// The host as libcurl reads it; IPv6 literals without brackets.
    var host: String
    var port: Int
    var hasCredentials: Bool

    /// Parses `text`; throws for anything that is not a complete http(s) URL.
    static func parse(_ text: String, schemes: Set<String> = ["http", "https"]) throws(ToolError) -> CurlURL {
        guard let handle = curl_url() else { throw ToolError("io_error", "libcurl could not create a URL handle; try again") }
        defer { curl_url_cleanup(handle) }
        let code = curl_url_set(handle, CURLUPART_URL, text, 0)
        guard code == CURLUE_OK else {
            throw .invalidInput("`\(text.prefix(200))` is not a valid URL (\(String(cString: curl_url_strerror(code)))); write a full URL like https://example.com/path")
        }
        func part(_ which: CURLUPart, _ flags: UInt32 = 0) -> String? {
            var value: UnsafeMutablePointer<CChar>?
            guard curl_url_get(handle, which, &value, flags) == CURLUE_OK, let value else { return nil }
            defer { curl_free(value) }
            return String(cString: value)
        }
        let scheme = (part(CURLUPART_SCHEME) ?? "").lowercased()
        guard schemes.contains(scheme) else {
            throw .invalidInput("only \(schemes.sorted().joined(separator: " and ")) URLs can be used, not `\(scheme):`")
        }
        guard var host = part(CURLUPART_HOST), !host.isEmpty else { throw .invalidInput("`\(text.prefix(200))` has no host") }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let portText = part(CURLUPART_PORT, UInt32(CURLU_DEFAULT_PORT)), let port = Int(portText) else {
            throw .invalidInput("`\(text.prefix(200))` has no usable port")
        }
        return CurlURL(text: part(CURLUPART_URL) ?? text, scheme: scheme, host: host, port: port,
                       hasCredentials: part(CURLUPART_USER) != nil || part(CURLUPART_PASSWORD) != nil)
    }
}
