import Foundation

/// Removes secrets (passwords, keys, tokens) from tool input and output before they are recorded
/// or returned: by member name, and by recognisable shapes inside any string.
public enum SecretRedactor {
    public static let mask = "[REDACTED]"

    /// Member names whose values are secrets, compared without case, `_` and `-`.
    static let secretNames: [String] = [
        "password", "passwd", "pwd", "secret", "token", "apikey", "accesskey", "secretkey", "privatekey",
        "authorization", "auth", "credential", "credentials", "cookie", "setcookie", "sessionid", "clientsecret",
        "accesstoken", "refreshtoken", "idtoken", "bearer", "pgpassword", "connectionstring", "dsn",
    ]

    /// `value` with secrets masked, and the JSON pointers of what was masked.
    public static func redact(_ value: JSONValue) -> (JSONValue, [String]) {
        var paths: [String] = []
        let redacted = redact(value, path: "", into: &paths)
        return (redacted, paths)
    }

    private static func redact(_ value: JSONValue, path: String, into paths: inout [String]) -> JSONValue {
        switch value {
        case .object(let members):
            var out: [String: JSONValue] = [:]
            out.reserveCapacity(members.count)
            for (key, member) in members {
                let memberPath = path + "/" + key
                if isSecretName(key), member != .null, member != .string("") {
                    out[key] = .string(mask)
                    paths.append(memberPath)
                } else {
                    out[key] = redact(member, path: memberPath, into: &paths)
                }
            }
            return .object(out)
        case .array(let items):
            return .array(items.enumerated().map { redact($1, path: "\(path)/\($0)", into: &paths) })
        case .string(let s):
            guard mightContainSecret(s) else { return value }
            let cleaned = redactString(s)
            if cleaned != s { paths.append(path.isEmpty ? "/" : path) }
            return .string(cleaned)
        default:
            return value
        }
    }

    static func isSecretName(_ key: String) -> Bool {
        var folded = ""
        for c in key.lowercased() where c != "_" && c != "-" && c != "." { folded.append(c) }
        if secretNames.contains(folded) { return true }
        return folded.hasSuffix("password") || folded.hasSuffix("secret") || folded.hasSuffix("token") || folded.hasSuffix("apikey")
    }

    /// A cheap filter so that ordinary strings are not scanned further.
    private static func mightContainSecret(_ s: String) -> Bool {
        s.contains("://") || s.contains("earer ") || s.contains("AKIA") || s.contains("PRIVATE KEY") || s.contains("sk-")
            || s.contains("ghp_") || s.contains("xox") || s.lowercased().contains("password=")
    }

    /// Masks credentials in URLs (`scheme://user:secret@host`), bearer tokens, PEM private keys,
    /// `password=…` pairs and well-known key prefixes (AWS, OpenAI, GitHub, Slack).
    public static func redactString(_ s: String) -> String {
        // Most text holds none of the patterns' fixed parts: skip the regular expressions for it.
        let lower = s.lowercased()
        guard ["://", "bearer ", "private key", "password=", "akia", "sk-", "ghp_", "xox"].contains(where: { lower.contains($0) }) else { return s }
        var out = s
        let patterns = [
            #"(?<=://)([^/\s:@]+):([^/\s@]+)@"#,                       // URL user:password@
            #"(?i)(?<=bearer )[A-Za-z0-9._~+/=-]{8,}"#,
            #"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"#,
            #"(?i)(?<=password=)[^\s&;]+"#,
            #"\bAKIA[0-9A-Z]{16}\b"#,
            #"\bsk-[A-Za-z0-9_-]{16,}"#,
            #"\bghp_[A-Za-z0-9]{20,}"#,
            #"\bxox[abpors]-[A-Za-z0-9-]{10,}"#,
        ]
        for (i, pattern) in patterns.enumerated() {
            let replacement = i == 0 ? "$1:\(mask)@" : mask
            out = out.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return out
    }
}
