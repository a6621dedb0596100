import Foundation

/// An IPv4 or IPv6 network in CIDR form (`10.0.0.0/8`, `2001:db8::/32`); a
/// bare address is the network of that address alone (/32 or /128).
///
/// Invariant: `bytes` holds 4 bytes (IPv4) or 16 (IPv6), `prefixLength` is
/// within 0…32 or 0…128, and the bits past the prefix are zero (an entry
/// such as `10.1.2.3/8`, whose host bits are set, is refused rather than
/// read as `10.0.0.0/8`: it more likely means something else). An
/// IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) is the IPv4 address.
public struct IPNetwork: Equatable, CustomStringConvertible {
    public let bytes: [UInt8]
    public let prefixLength: Int

    /// Parses `ADDRESS` or `ADDRESS/PREFIX`; nil for anything else.
    public init?(cidr text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = Self.addressBytes(String(parts[0])) else { return nil }
        // A mapped IPv4 network (::ffff:10.0.0.0/104) counts its prefix on 128 bits.
        let writtenAsIPv6 = parts[0].contains(":")
        let bitsUnmapped = writtenAsIPv6 ? 128 - bytes.count * 8 : 0
        var prefixLength = bytes.count * 8
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(digits),
                  length <= bitsUnmapped + bytes.count * 8, length >= bitsUnmapped else { return nil }
            prefixLength = length - bitsUnmapped
        }
        guard Self.masked(bytes, prefixLength: prefixLength) == bytes else { return nil }
        self.bytes = bytes
        self.prefixLength = prefixLength
    }

    /// Whether the address (as `addressBytes` gives it) lies in this network.
    public func contains(_ address: [UInt8]) -> Bool {
        address.count == bytes.count && Self.masked(address, prefixLength: prefixLength) == bytes
    }

    public var description: String { "\(Self.text(of: bytes))/\(prefixLength)" }

    // MARK: Addresses

    /// The bytes of a numeric IPv4 or IPv6 address (an IPv4-mapped IPv6
    /// address gives its 4 IPv4 bytes); nil for anything else, ports,
    /// brackets and zone IDs included.
    public static func addressBytes(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count <= 45, !text.contains("%") else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF { return Array(bytes[12...]) }
        return bytes
    }

    /// The canonical text of address bytes (4 or 16): one address always
    /// has one text, so it is one key of a rate limiter.
    public static func text(of bytes: [UInt8]) -> String {
        precondition(bytes.count == 4 || bytes.count == 16, "an address is 4 or 16 bytes, not \(bytes.count)")
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let written = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        precondition(written != nil, "inet_ntop failed on \(bytes.count) bytes")
        return String(cString: buffer)
    }

    private static func masked(_ address: [UInt8], prefixLength: Int) -> [UInt8] {
        address.enumerated().map { index, byte in
            let bitsKept = min(8, max(0, prefixLength - index * 8))
            return bitsKept == 8 ? byte : byte & ~(UInt8(0xFF) >> bitsKept)
        }
    }
}
