#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address.
///
/// Parses every numeric form a URL host can take, not only the dotted quad: `2130706433`, `0x7f.1`,
/// `0177.0.0.1` and `127.1` are all 127.0.0.1 (the forms `inet_aton` and browsers accept), and
/// `[::ffff:127.0.0.1]` is IPv6 with brackets and an optional zone (`%eth0`).
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, in network order.
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// An address from its text, or nil when `text` is not a numeric address (a host name).
    public init?(_ text: String) {
        var text = text
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let v4 = IPAddress.parseIPv4(text) {
            bytes = v4
        } else if let v6 = IPAddress.parseIPv6(text) {
            bytes = v6
        } else {
            return nil
        }
    }

    public var isIPv4: Bool { bytes.count == 4 }

    /// The canonical text: dotted quad, or RFC 5952 IPv6 without brackets.
    public var description: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The IPv4 address carried inside an IPv6 one (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`,
    /// NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:aabb:ccdd::`), which the network may deliver to that IPv4 host.
    public var embeddedIPv4: IPAddress? {
        guard !isIPv4 else { return nil }
        let b = bytes
        if b[0..<10].allSatisfy({ $0 == 0 }) && ((b[10] == 0xff && b[11] == 0xff) || (b[10] == 0 && b[11] == 0)) {
            return IPAddress(bytes: Array(b[12..<16]))
        }
        if b[0..<12] == [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] { return IPAddress(bytes: Array(b[12..<16])) }
        if b[0] == 0x20 && b[1] == 0x02 { return IPAddress(bytes: Array(b[2..<6])) }
        return nil
    }

    /// IPv4 in the forms `inet_aton` accepts: one to four parts, each decimal, octal (`0` prefix) or
    /// hexadecimal (`0x`); the last part fills the remaining bytes. A trailing dot is allowed.
    static func parseIPv4(_ text: String) -> [UInt8]? {
        var parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count > 1, parts.last == "" { parts.removeLast() }
        guard (1...4).contains(parts.count) else { return nil }
        var values: [UInt64] = []
        for part in parts {
            guard let value = parseIPv4Part(part) else { return nil }
            values.append(value)
        }
        for value in values.dropLast() where value > 255 { return nil }
        let lastBytes = 5 - values.count
        guard values.last! < (UInt64(1) << (8 * UInt64(lastBytes))) else { return nil }
        var result = values.dropLast().map { UInt8($0) }
        let last = values.last!
        for shift in stride(from: 8 * (lastBytes - 1), through: 0, by: -8) {
            result.append(UInt8((last >> UInt64(shift)) & 0xff))
        }
        return result
    }

    private static func parseIPv4Part(_ part: String) -> UInt64? {
        guard !part.isEmpty, part.count <= 32 else { return nil }
        let lower = part.lowercased()
        if lower.hasPrefix("0x") {
            let digits = lower.dropFirst(2)
            return digits.isEmpty ? 0 : UInt64(digits, radix: 16)
        }
        if lower.count > 1, lower.hasPrefix("0") { return UInt64(lower.dropFirst(), radix: 8) }
        guard lower.allSatisfy(\.isASCII) else { return nil }
        return UInt64(lower, radix: 10)
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        guard text.contains(":") else { return nil }
        // A zone (`fe80::1%eth0`, in URLs `%25eth0`) picks an interface; the address is what is checked.
        let address = text.split(separator: "%", maxSplits: 1).first.map(String.init) ?? text
        var result = in6_addr()
        guard inet_pton(AF_INET6, address, &result) == 1 else { return nil }
        return withUnsafeBytes(of: &result) { Array($0) }
    }
}

/// The server-side request forgery checks of `http.fetch`, as a pure value: which hosts a fetch may
/// name, and which addresses it may reach.
///
/// A host must match `allowHosts` (globs, `*.example.com`). Its addresses — the literal in the URL, or
/// every address its name resolves to — must all be public unless the host matches `allowPrivateHosts`:
/// loopback, private, link-local (the cloud metadata service 169.254.169.254), unspecified, shared
/// (CGNAT), multicast and reserved ranges are refused, also inside IPv6 (mapped, compatible, NAT64,
/// 6to4). Names that always mean this machine (`localhost`, `*.localhost`) or a metadata service
/// (`metadata.google.internal`) are refused before any lookup.
///
/// ```swift
/// let guard = AddressGuard(allowHosts: ["*.example.com"], allowPrivateHosts: [])
/// guard.check(host: "api.example.com")                        // nil: may be fetched
/// guard.check(host: "api.example.com", resolvedTo: [IPAddress("10.0.0.7")!])  // http.private_address
/// AddressGuard.restriction(of: IPAddress("0x7f.1")!)        // "loopback"
/// ```
public struct AddressGuard: Sendable, Hashable {
    public var allowHosts: [String]
    public var allowPrivateHosts: [String]

    public init(allowHosts: [String], allowPrivateHosts: [String]) {
        self.allowHosts = allowHosts
        self.allowPrivateHosts = allowPrivateHosts
    }

    public init(_ settings: HTTPFetchSettings) {
        self.init(allowHosts: settings.allowHosts, allowPrivateHosts: settings.allowPrivateHosts)
    }

    /// Why `address` must not be fetched (`loopback`, `private`, `link-local`, …), or nil when it is public.
    public static func restriction(of address: IPAddress) -> String? {
        let b = address.bytes
        if address.isIPv4 {
            switch (b[0], b[1]) {
            case (0, _): return "unspecified"
            case (10, _), (172, 16...31), (192, 168): return "private"
            case (100, 64...127): return "shared (CGNAT)"
            case (127, _): return "loopback"
            case (169, 254): return "link-local"
            case (192, 0) where b[2] == 0: return "reserved"
            case (198, 18...19): return "reserved"
            case (224...239, _): return "multicast"
            case (240...255, _): return "reserved"
            default: return nil
            }
        }
        if b.allSatisfy({ $0 == 0 }) { return "unspecified" }
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return "loopback" }
        if let inner = address.embeddedIPv4 {
            if b[0..<12].allSatisfy({ $0 == 0 }) && !(b[10] == 0xff) { return "reserved (IPv4-compatible)" }
            return restriction(of: inner).map { "\($0) (\(inner) inside IPv6)" }
        }
        switch (b[0], b[1]) {
        case (0xfc...0xfd, _): return "private"
        case (0xfe, 0x80...0xbf): return "link-local"
        case (0xfe, 0xc0...0xff): return "private"
        case (0xff, _): return "multicast"
        case (0x00, 0x64) where b[2] == 0xff && b[3] == 0x9b: return "reserved (local NAT64)"
        case (0x20, 0x01) where b[2] == 0 && b[3] == 0: return "reserved (Teredo)"
        case (0x01, 0x00) where b[2..<8].allSatisfy({ $0 == 0 }): return "reserved (discard)"
        case (0x00, _): return "reserved"
        default: return nil
        }
    }

    /// Host names that mean this machine or a cloud metadata service whatever DNS says.
    static let metadataNames: Set<String> = [
        "metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal",
    ]

    /// Why the name `host` must not be fetched, or nil when only its addresses can tell.
    public static func restriction(ofName host: String) -> String? {
        let host = normalize(host)
        if host == "localhost" || host.hasSuffix(".localhost") || host == "localhost.localdomain"
            || host == "ip6-localhost" || host == "ip6-loopback" {
            return "loopback"
        }
        if metadataNames.contains(host) { return "cloud metadata service" }
        return nil
    }

    /// Lowercased, without brackets or a trailing dot: the form hosts are compared and authorized in.
    public static func normalize(_ host: String) -> String {
        var host = host.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        while host.hasSuffix("."), host.count > 1 { host.removeLast() }
        return host
    }

    /// Whether `host` matches one of `patterns` (`*` matches any run of characters).
    static func matches(_ host: String, _ patterns: [String]) -> Bool {
        let host = normalize(host)
        return patterns.contains { pattern in
            glob(Array(normalize(pattern)), Array(host))
        }
    }

    private static func glob(_ pattern: [Character], _ text: [Character]) -> Bool {
        var p = 0, t = 0, star = -1, mark = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == "*" {
                star = p; mark = t; p += 1
            } else if p < pattern.count, pattern[p] == text[t] {
                p += 1; t += 1
            } else if star >= 0 {
                p = star + 1; mark += 1; t = mark
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }

    /// Whether private addresses are allowed for `host`.
    public func allowsPrivateAddresses(for host: String) -> Bool { Self.matches(host, allowPrivateHosts) }

    /// Checks a URL's host before anything is looked up: the allow-list, numeric addresses in any form,
    /// and names reserved for this machine or metadata services. Nil: go on and resolve the name.
    public func check(host: String) -> GuardrailViolation? {
        let name = Self.normalize(host)
        guard Self.matches(name, allowHosts) else {
            return GuardrailViolation(
                guardrail: "http.host_not_allowed",
                reason: allowHosts.isEmpty
                    ? "no host may be fetched: `http.allowHosts` is empty; add `\(name)` (or a pattern like `*.\(name)`) to it in glassbox.yaml"
                    : "`\(name)` is not in `http.allowHosts`; fetch one of \(allowHosts.joined(separator: ", ")) or ask an administrator to add it",
                detail: name)
        }
        if allowsPrivateAddresses(for: name) { return nil }
        if let address = IPAddress(name) { return check(host: name, resolvedTo: [address]) }
        if let why = Self.restriction(ofName: name) { return privateViolation(name, why, address: nil) }
        return nil
    }

    /// Checks every address `host` resolved to; one restricted address refuses the whole fetch, since
    /// the connection could go to any of them.
    public func check(host: String, resolvedTo addresses: [IPAddress]) -> GuardrailViolation? {
        if allowsPrivateAddresses(for: host) { return nil }
        for address in addresses {
            if let why = Self.restriction(of: address) { return privateViolation(Self.normalize(host), why, address: address) }
        }
        return nil
    }

    private func privateViolation(_ host: String, _ why: String, address: IPAddress?) -> GuardrailViolation {
        let what = address.map { IPAddress(host) == nil ? "`\(host)` resolves to \($0), a \(why) address" : "\($0) is a \(why) address" }
            ?? "`\(host)` names a \(why) host"
        return GuardrailViolation(
            guardrail: "http.private_address",
            reason: "\(what); fetches may reach only public addresses unless the host is in `http.allowPrivateHosts`",
            detail: address?.description ?? host)
    }
}
