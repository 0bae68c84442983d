import CGlassboxCurl
import Foundation

/// One libcurl easy transfer, configured from Swift and performed on a dedicated thread so that a
/// blocking transfer never holds a thread of Swift's concurrency pool. Cancelling the awaiting task
/// aborts the transfer (libcurl's progress callback checks a flag at least once a second).
///
/// Not thread-safe: configure, perform and read from one task at a time.
final class CurlTransfer: @unchecked Sendable {
    // @unchecked: the handle is used by one task at a time (configure → perform → read); the only
    // cross-thread call, `glassbox_curl_transfer_cancel`, is an atomic store in C.
    private let transfer: OpaquePointer
    private var lists: [UnsafeMutablePointer<curl_slist>] = []
    private var mime: OpaquePointer?

    struct SetupError: Error, CustomStringConvertible {
        var description: String
    }

    init(maxBodyBytes: Int) throws(ToolError) {
        guard let transfer = glassbox_curl_transfer_create(max(0, maxBodyBytes)) else {
            throw ToolError("io_error", "libcurl could not create a transfer handle; the process may be out of memory, try again")
        }
        self.transfer = transfer
    }

    deinit {
        glassbox_curl_transfer_destroy(transfer)
        if let mime { curl_mime_free(mime) }
        for list in lists { curl_slist_free_all(list) }
    }

    var handle: UnsafeMutableRawPointer { glassbox_curl_transfer_handle(transfer) }

    func set(_ option: CURLoption, _ value: Int) throws(SetupError) {
        try check(glassbox_curl_setopt_long(handle, option, value), option)
    }

    func set(_ option: CURLoption, _ value: String) throws(SetupError) {
        try check(glassbox_curl_setopt_string(handle, option, value), option)
    }

    /// Sets a list option (headers, recipients, resolve entries); the list lives as long as the transfer.
    func set(_ option: CURLoption, list items: [String]) throws(SetupError) {
        var list: UnsafeMutablePointer<curl_slist>?
        for item in items {
            guard let longer = curl_slist_append(list, item) else {
                if let list { curl_slist_free_all(list) }
                throw SetupError(description: "out of memory building a libcurl list")
            }
            list = longer
        }
        if let list { lists.append(list) }
        try check(glassbox_curl_setopt_slist(handle, option, list), option)
    }

    /// Attaches a MIME body built by `build`; the transfer owns and frees it.
    func setMIME(_ build: (OpaquePointer) throws -> Void) throws {
        guard let mime = curl_mime_init(handle) else { throw SetupError(description: "libcurl could not create a MIME body") }
        self.mime = mime
        try build(mime)
        try check(glassbox_curl_setopt_mime(handle, mime), CURLOPT_MIMEPOST)
    }

    /// Restricts connections to these numeric addresses (checked when libcurl opens each socket).
    func allowOnly(addresses: [String]) throws(SetupError) {
        for address in addresses where glassbox_curl_transfer_allow_address(transfer, address) != 0 {
            throw SetupError(description: "`\(address)` is not a numeric IP address")
        }
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws(SetupError) {
        guard code == CURLE_OK else {
            throw SetupError(description: "libcurl refused option \(option.rawValue): \(String(cString: curl_easy_strerror(code)))")
        }
    }

    /// Runs the transfer on its own thread; returns libcurl's result code.
    func perform() async -> CURLcode {
        let transfer = UncheckedTransfer(pointer: transfer)
        return await withTaskCancellationHandler {
            await DedicatedThread.run(name: "glassbox-curl") { glassbox_curl_transfer_perform(transfer.pointer) }
        } onCancel: {
            glassbox_curl_transfer_cancel(transfer.pointer)
        }
    }

    var body: Data {
        var length = 0
        guard let bytes = glassbox_curl_transfer_body(transfer, &length), length > 0 else { return Data() }
        return Data(bytes: bytes, count: length)
    }

    var bodyTruncated: Bool { glassbox_curl_transfer_body_truncated(transfer) != 0 }

    /// Response headers of the last response, names lowercased; the last value wins.
    var headers: [String: String] {
        var length = 0
        guard let raw = glassbox_curl_transfer_headers(transfer, &length) else { return [:] }
        var result: [String: String] = [:]
        for line in String(cString: raw).split(whereSeparator: { $0 == "\r\n" || $0 == "\n" || $0 == "\r" }) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            result[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return result
    }

    var errorText: String { String(cString: glassbox_curl_transfer_error_text(transfer)) }

    /// The address the allow-list refused during `perform`, if any.
    var refusedAddress: String? {
        let text = String(cString: glassbox_curl_transfer_refused_address(transfer))
        return text.isEmpty ? nil : text
    }

    func info(_ item: CURLINFO) -> Int? {
        var value = 0
        return glassbox_curl_getinfo_long(handle, item, &value) == CURLE_OK ? value : nil
    }

    func info(string item: CURLINFO) -> String? {
        var value: UnsafePointer<CChar>?
        guard glassbox_curl_getinfo_string(handle, item, &value) == CURLE_OK, let value else { return nil }
        return String(cString: value)
    }

    /// libcurl's short description of a result code.
    static func describe(_ code: CURLcode) -> String { String(cString: curl_easy_strerror(code)) }
}

/// The C transfer pointer, handed to the transfer thread and the cancellation handler.
private struct UncheckedTransfer: @unchecked Sendable {
    // @unchecked: the cancellation handler only calls the atomic cancel; the thread owns everything else.
    let pointer: OpaquePointer
}

/// Runs blocking work (libcurl transfers, reading a child process's pipes) on a new thread, so that
/// it never occupies one of the few threads Swift's concurrency pool has.
enum DedicatedThread {
    static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.name = name
            thread.start()
        }
    }
}
