import Foundation
import GRDB
import GRDBSQLite

/// Direct use of SQLite's C API on a statement GRDB prepared, for the two hot paths:
/// inserting events and reading them back. GRDB's general-purpose argument and row
/// types allocate per value, which costs more than SQLite itself there.
///
/// Only used inside GRDB's database access closures, on the connection that owns the statement.
struct RawStatement {
    let handle: OpaquePointer
    let connection: OpaquePointer

    init(_ statement: Statement, _ db: Database) {
        handle = statement.sqliteStatement
        connection = db.sqliteConnection!
    }

    // MARK: Binding (1-based indexes)

    func bind(_ value: Int64, at index: Int32) {
        sqlite3_bind_int64(handle, index, value)
    }

    func bind(_ text: String?, at index: Int32) {
        guard var text else {
            sqlite3_bind_null(handle, index)
            return
        }
        text.withUTF8 { utf8 in
            _ = sqlite3_bind_text(handle, index, utf8.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                                  Int32(utf8.count), sqliteTransient)
        }
    }

    func bind(_ hash: ChainHash, at index: Int32) {
        hash.withUnsafeBytes { bytes in
            _ = sqlite3_bind_blob(handle, index, bytes.baseAddress, 32, sqliteTransient)
        }
    }

    func bind(_ id: UUID, at index: Int32) {
        id.withLowercasedText { text in
            _ = sqlite3_bind_text(handle, index, text.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                                  Int32(text.count), sqliteTransient)
        }
    }

    // MARK: Stepping

    /// Steps once: true for a row, false when done. SQLite errors are thrown as GRDB's `DatabaseError`.
    func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw lastError()
        }
    }

    func reset() {
        sqlite3_reset(handle)
    }

    /// Runs a statement that returns no rows (e.g. SAVEPOINT), ready to run again.
    func run() throws {
        defer { reset() }
        while try step() {}
    }

    private func lastError() -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: sqlite3_extended_errcode(connection)),
            message: String(cString: sqlite3_errmsg(connection)))
    }

    // MARK: Columns (0-based indexes)

    func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    /// The column's text, or nil when it is NULL. (A value of another type is read as SQLite converts it.)
    func text(_ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    /// The column as a 32-byte hash, or nil when it is anything else.
    func hash(_ column: Int32) -> ChainHash? {
        guard let pointer = sqlite3_column_blob(handle, column), sqlite3_column_bytes(handle, column) == 32 else {
            return nil
        }
        return ChainHash(unsafeBytes: pointer)
    }

    /// The column's text parsed as a UUID, without building a String.
    func uuid(_ column: Int32) -> UUID? {
        guard let pointer = sqlite3_column_text(handle, column) else { return nil }
        return UUID(text: UnsafeBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(handle, column))))
    }
}

/// SQLite copies bound values at once (`SQLITE_TRANSIENT`), so Swift buffers may go away after binding.
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

extension UUID {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Calls `body` with the 36 bytes of the lowercase text form, without allocating.
    func withLowercasedText<T>(_ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        withUnsafeBytes(of: uuid) { bytes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 36) { text in
                var out = 0
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        text[out] = UInt8(ascii: "-")
                        out += 1
                    }
                    text[out] = UUID.hexDigits[Int(byte >> 4)]
                    text[out + 1] = UUID.hexDigits[Int(byte & 0x0F)]
                    out += 2
                }
                return body(UnsafeBufferPointer(text))
            }
        }
    }

    /// Parses the 36-character text form (either case); nil when malformed.
    init?(text: UnsafeBufferPointer<UInt8>) {
        guard text.count == 36, text[8] == UInt8(ascii: "-"), text[13] == UInt8(ascii: "-"),
              text[18] == UInt8(ascii: "-"), text[23] == UInt8(ascii: "-")
        else { return nil }
        func nibble(_ character: UInt8) -> UInt8? {
            switch character {
            case 48...57: character - 48
            case 97...102: character - 87
            case 65...70: character - 55
            default: nil
            }
        }
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let ok = withUnsafeMutableBytes(of: &bytes) { out -> Bool in
            var position = 0
            for index in 0..<16 {
                if position == 8 || position == 13 || position == 18 || position == 23 { position += 1 }
                guard let high = nibble(text[position]), let low = nibble(text[position + 1]) else { return false }
                out[index] = high << 4 | low
                position += 2
            }
            return true
        }
        guard ok else { return nil }
        self.init(uuid: bytes)
    }
}
