import HTTPTypes
import Hummingbird
import CoreMetrics
import Metrics

/// Counts requests by route template, method and status, and times them.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let route = { context.endpointPath ?? "unmatched" }
        do {
            let response = try await next(request, context)
            record(request, route: route(), status: response.status.code, start: start)
            return response
        } catch let error as any HTTPResponseError {
            record(request, route: route(), status: error.status.code, start: start)
            throw error
        } catch {
            record(request, route: route(), status: 500, start: start)
            throw error
        }
    }

    private func record(_ request: Request, route: String, status: Int, start: ContinuousClock.Instant) {
        let method = request.method.rawValue
        Counter(label: "glassbox_http_requests_total", dimensions: [("route", route), ("method", method), ("status", String(status))]).increment()
        Metrics.Timer(label: "glassbox_http_request_duration_seconds", dimensions: [("route", route), ("method", method)])
            .recordNanoseconds(Int64((ContinuousClock.now - start) / .nanoseconds(1)))
    }
}

/// Cross-origin access for the origins in the allow-list: a dashboard opened from disk
/// (origin `null`) or served from another host. Same-origin requests need nothing.
struct CORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: OriginPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        let allowed = policy.allowsCrossOrigin(origin)
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            var headers = HTTPFields()
            if allowed {
                headers[.accessControlAllowOrigin] = policy.allowAll ? "*" : origin
                headers[.accessControlAllowMethods] = "GET, POST, OPTIONS"
                headers[.accessControlAllowHeaders] = "Content-Type, Last-Event-ID, Authorization"
                headers[.accessControlMaxAge] = "600"
            }
            headers[.vary] = "Origin"
            return Response(status: .noContent, headers: headers)
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        if allowed {
            response.headers[.accessControlAllowOrigin] = policy.allowAll ? "*" : origin
            response.headers[.accessControlExposeHeaders] = "Content-Type"
        }
        response.headers[.vary] = "Origin"
        return response
    }
}

/// Which browser origins may use the API besides the server's own.
struct OriginPolicy: Sendable {
    let origins: Set<String>
    var allowAll: Bool { origins.contains("*") }

    init(_ origins: [String]) {
        self.origins = Set(origins.map { $0 == "null" ? $0 : $0.lowercased().trimmingSuffix("/") })
    }

    func allowsCrossOrigin(_ origin: String) -> Bool {
        allowAll || origins.contains(origin == "null" ? origin : origin.lowercased())
    }

    /// For WebSocket upgrades, which browsers send from any page: the origin must be the
    /// server itself (same host and port as the Host header) or in the allow-list.
    func allowsWebSocket(origin: String?, host: String?) -> Bool {
        guard let origin else { return true }
        if allowsCrossOrigin(origin) { return true }
        guard let host else { return false }
        let stripped = origin.lowercased().replacingPrefix("http://", "").replacingPrefix("https://", "")
        return stripped == host.lowercased()
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }

    func replacingPrefix(_ prefix: String, _ replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
