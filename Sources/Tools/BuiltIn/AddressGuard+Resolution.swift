#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension AddressGuard {
    /// A name that did not resolve.
    struct ResolutionError: Error, CustomStringConvertible {
        var host: String
        var problem: String
        var description: String { "`\(host)` could not be resolved: \(problem); check the URL's host name" }
    }

    /// Every address `host` resolves to, with the system resolver (blocking: call it off the
    /// concurrency pool). A numeric host is returned as is, without a lookup.
    static func resolve(_ host: String) -> Result<[IPAddress], ResolutionError> {
        let name = normalize(host)
        if let address = IPAddress(name) { return .success([address]) }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &list)
        guard status == 0 else { return .failure(ResolutionError(host: name, problem: String(cString: gai_strerror(status)))) }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var entry = list
        while let info = entry?.pointee {
            if let sockaddr = info.ai_addr {
                switch info.ai_family {
                case AF_INET:
                    sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                        var address = v4.pointee.sin_addr
                        if let ip = IPAddress(bytes: withUnsafeBytes(of: &address) { Array($0) }) { addresses.append(ip) }
                    }
                case AF_INET6:
                    sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                        var address = v6.pointee.sin6_addr
                        if let ip = IPAddress(bytes: withUnsafeBytes(of: &address) { Array($0) }) { addresses.append(ip) }
                    }
                default: break
                }
            }
            entry = info.ai_next
        }
        var seen = Set<IPAddress>()
        addresses = addresses.filter { seen.insert($0).inserted }
        guard !addresses.isEmpty else { return .failure(ResolutionError(host: name, problem: "it has no IPv4 or IPv6 address")) }
        return .success(addresses)
    }
}
