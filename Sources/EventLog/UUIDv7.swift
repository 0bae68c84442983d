public import Foundation

extension UUID {
    /// A new UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits.
    ///
    /// Event ids are UUIDv7 so that they sort roughly by creation time, which keeps
    /// the log's id index append-mostly.
    ///
    /// ```swift
    /// let id = UUID.version7()
    /// ```
    public static func version7(unixMilliseconds: UInt64 = UInt64(Date().timeIntervalSince1970 * 1000)) -> UUID {
        var generator = SystemRandomNumberGenerator()
        let random = (generator.next() as UInt64, generator.next() as UInt64)
        let ms = unixMilliseconds
        let bytes: uuid_t = (
            UInt8(truncatingIfNeeded: ms >> 40), UInt8(truncatingIfNeeded: ms >> 32),
            UInt8(truncatingIfNeeded: ms >> 24), UInt8(truncatingIfNeeded: ms >> 16),
            UInt8(truncatingIfNeeded: ms >> 8), UInt8(truncatingIfNeeded: ms),
            0x70 | UInt8(truncatingIfNeeded: random.0 >> 60) & 0x0F,  // version 7
            UInt8(truncatingIfNeeded: random.0 >> 52),
            0x80 | UInt8(truncatingIfNeeded: random.0 >> 44) & 0x3F,  // variant 10
            UInt8(truncatingIfNeeded: random.0 >> 36),
            UInt8(truncatingIfNeeded: random.1 >> 40), UInt8(truncatingIfNeeded: random.1 >> 32),
            UInt8(truncatingIfNeeded: random.1 >> 24), UInt8(truncatingIfNeeded: random.1 >> 16),
            UInt8(truncatingIfNeeded: random.1 >> 8), UInt8(truncatingIfNeeded: random.1)
        )
        return UUID(uuid: bytes)
    }
}
