/// CRC-32C (Castagnoli), the checksum of every frame and log record.
///
/// Invariant: `checksum` is a pure function of its bytes (reflected
/// polynomial 0x82F63B78, initial and final XOR 0xFFFFFFFF), and feeding
/// bytes in parts through `update` gives the same value as `checksum` of
/// them all.
public enum CRC32C {
    /// Eight tables for slicing-by-8: `tables[k][b]` is the CRC of byte `b`
    /// followed by `k` zero bytes. Eight bytes per step instead of one: the
    /// checksums of records and frames showed in the profiles of both nodes.
    private static let tables: [[UInt32]] = {
        let first: [UInt32] = (0..<256).map { index in
            var crc = UInt32(index)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            return crc
        }
        var tables = [first]
        for _ in 1..<8 {
            let previous = tables.last!
            tables.append((0..<256).map { index in (previous[index] >> 8) ^ first[Int(previous[index] & 0xFF)] })
        }
        return tables
    }()

    /// The value before any byte; pass it to `update`, then `finish`.
    public static let initial: UInt32 = 0xFFFF_FFFF

    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        finish(update(initial, bytes))
    }

    /// Feeds `bytes` into a running `crc` (not yet finished).
    public static func update<Bytes: Sequence>(_ crc: UInt32, _ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        if let result = bytes.withContiguousStorageIfAvailable({ update(crc, buffer: UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return update(crc, buffer: Array(bytes))
    }

    /// The checksum of everything fed into `crc`.
    public static func finish(_ crc: UInt32) -> UInt32 {
        crc ^ 0xFFFF_FFFF
    }

    private static func update(_ crc: UInt32, buffer: [UInt8]) -> UInt32 {
        buffer.withUnsafeBytes { update(crc, buffer: $0) }
    }

    private static func update(_ start: UInt32, buffer: UnsafeRawBufferPointer) -> UInt32 {
        var crc = start
        var index = 0
        let count = buffer.count
        tables.withUnsafeBufferPointer { t in
            let (t0, t1, t2, t3) = (t[0], t[1], t[2], t[3])
            let (t4, t5, t6, t7) = (t[4], t[5], t[6], t[7])
            while index + 8 <= count {
                let low = crc ^ (UInt32(buffer[index]) | UInt32(buffer[index + 1]) << 8
                    | UInt32(buffer[index + 2]) << 16 | UInt32(buffer[index + 3]) << 24)
                crc = t7[Int(low & 0xFF)] ^ t6[Int(low >> 8 & 0xFF)] ^ t5[Int(low >> 16 & 0xFF)] ^ t4[Int(low >> 24)]
                    ^ t3[Int(buffer[index + 4])] ^ t2[Int(buffer[index + 5])] ^ t1[Int(buffer[index + 6])] ^ t0[Int(buffer[index + 7])]
                index += 8
            }
            while index < count {
                crc = t0[Int((crc ^ UInt32(buffer[index])) & 0xFF)] ^ (crc >> 8)
                index += 1
            }
        }
        return crc
    }
}
