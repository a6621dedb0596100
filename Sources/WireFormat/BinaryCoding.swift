/// Writes the compact binary form of log records: unsigned LEB128 varints,
/// zig-zag signed integers, length-prefixed UTF-8 strings and byte strings.
///
/// Invariant: `BinaryReader` reads back exactly what `BinaryWriter` wrote.
public struct BinaryWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func unsigned(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    public mutating func signed(_ value: Int64) {
        unsigned(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    public mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func data(_ value: [UInt8]) {
        unsigned(UInt64(value.count))
        bytes += value
    }

    public mutating func string(_ value: String) { data(Array(value.utf8)) }

    public mutating func optionalString(_ value: String?) {
        bool(value != nil)
        if let value { string(value) }
    }

    public mutating func strings(_ values: [String]) {
        unsigned(UInt64(values.count))
        for value in values { string(value) }
    }
}

/// Reads what `BinaryWriter` wrote; every read checks bounds and throws
/// `BinaryReader.Malformed` rather than guessing.
public struct BinaryReader {
    /// The bytes end early or hold an impossible value.
    public struct Malformed: Error, Equatable {
        public init() {}
    }

    /// Largest string or byte string a record may hold.
    public static let fieldBytesMax = 4 << 20

    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { offset == bytes.count }

    public mutating func unsigned() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count, shift < 64 else { throw Malformed() }
            let byte = bytes[offset]
            offset += 1
            // The tenth byte holds bit 63 only: anything above it does not fit.
            guard shift < 63 || byte <= 1 else { throw Malformed() }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    public mutating func signed() throws -> Int64 {
        let raw = try unsigned()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// An unsigned varint that must fit in one byte (enum tags).
    public mutating func byte() throws -> UInt8 {
        guard let value = UInt8(exactly: try unsigned()) else { throw Malformed() }
        return value
    }

    public mutating func bool() throws -> Bool {
        guard offset < bytes.count, bytes[offset] <= 1 else { throw Malformed() }
        offset += 1
        return bytes[offset - 1] == 1
    }

    public mutating func data() throws -> [UInt8] {
        let count = try unsigned()
        guard count <= UInt64(Self.fieldBytesMax), offset + Int(count) <= bytes.count else { throw Malformed() }
        defer { offset += Int(count) }
        return Array(bytes[offset..<(offset + Int(count))])
    }

    public mutating func string() throws -> String {
        let raw = try data()
        guard let text = String(validating: raw, as: UTF8.self) else { throw Malformed() }
        return text
    }

    public mutating func optionalString() throws -> String? {
        try bool() ? try string() : nil
    }

    public mutating func strings() throws -> [String] {
        let count = try unsigned()
        guard count <= 1 << 16 else { throw Malformed() }
        return try (0..<count).map { _ in try string() }
    }
}
