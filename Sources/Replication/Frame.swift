/// One unit on the replication stream: a type byte and a payload, framed as
/// `length(u32 BE) | type(u8) | payload | crc32c(u32 BE)`, where `length`
/// counts type and payload and the CRC covers them.
///
/// Invariant: an encoded frame is never larger than `frameBytesMax`.
public struct Frame: Equatable {
    /// Largest frame, header and checksum included.
    public static let frameBytesMax = 16 << 20
    /// Bytes of length prefix and checksum around type and payload.
    static let overheadBytes = 8

    public let type: UInt8
    public let payload: [UInt8]

    public init(type: UInt8, payload: [UInt8]) {
        precondition(payload.count + 1 + Self.overheadBytes <= Self.frameBytesMax, "frame over frameBytesMax")
        self.type = type
        self.payload = payload
    }

    /// The bytes to put on the stream.
    public func encoded() -> [UInt8] {
        var body = [type]
        body.append(contentsOf: payload)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(body.count + Self.overheadBytes)
        bytes.appendBigEndian(UInt32(body.count))
        bytes.append(contentsOf: body)
        bytes.appendBigEndian(CRC32C.checksum(body))
        return bytes
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value >> 24))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    func bigEndianUInt32(at offset: Int) -> UInt32 {
        (UInt32(self[offset]) << 24) | (UInt32(self[offset + 1]) << 16) | (UInt32(self[offset + 2]) << 8) | UInt32(self[offset + 3])
    }
}
