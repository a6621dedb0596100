import Foundation
import LicenseState
import Platform
import Transport

/// The token a client receives with a grant: the grant's facts, signed with
/// HMAC-SHA-256 under the cluster's token key, so a client can keep it as
/// proof and either node of the pair can check it.
///
/// Form: `base64url(JSON).base64url(HMAC)`.
/// Invariant: `verify(make(g)) == true` for the same key; any change to the
/// text makes `verify` false.
struct GrantToken {
    private let key: [UInt8]

    init(key: [UInt8]) {
        precondition(key.count >= 32, "a token key has at least 32 bytes")
        self.key = key
    }

    /// The key of a pair: derived from the shared cluster secret.
    static func key(clusterSecret: String) -> [UInt8] {
        Crypto.hmacSHA256(key: Array(clusterSecret.utf8), message: Array("lts grant token key v1".utf8))
    }

    func make(_ grant: Grant, term: UInt64) -> String {
        var payload = "{\"grantId\":\(JSONText.quote(grant.grantId)),\"itemId\":\(JSONText.quote(grant.itemId))"
        payload += ",\"handshakeCode\":\(JSONText.quote(grant.handshakeCode)),\"clientUUID\":\(JSONText.quote(grant.clientUUID))"
        payload += ",\"amount\":\(grant.amount),\"grace\":\(grant.grace),\"at\":\(grant.at),\"term\":\(term)"
        if let expiresAt = grant.leaseExpiresAt { payload += ",\"leaseExpiresAt\":\(expiresAt)" }
        payload += "}"
        let bytes = Array(payload.utf8)
        return Self.base64url(bytes) + "." + Self.base64url(Crypto.hmacSHA256(key: key, message: bytes))
    }

    func verify(_ token: String) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = Self.decode(parts[0]), let mac = Self.decode(parts[1]) else { return false }
        return Crypto.constantTimeEqual(Crypto.hmacSHA256(key: key, message: payload), mac)
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Base64url without padding (RFC 4648 §5), byte by byte: this runs on
    /// every grant, where Foundation's string replacement cost a third of
    /// the node's time (bench/README.md).
    static func base64url(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= bytes.count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            // One append per character: an array literal here allocated per chunk.
            out.append(alphabet[Int(chunk >> 18 & 63)])
            out.append(alphabet[Int(chunk >> 12 & 63)])
            out.append(alphabet[Int(chunk >> 6 & 63)])
            out.append(alphabet[Int(chunk & 63)])
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            let chunk = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            out.append(alphabet[Int(chunk >> 18 & 63)])
            out.append(alphabet[Int(chunk >> 12 & 63)])
            if rest == 2 { out.append(alphabet[Int(chunk >> 6 & 63)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        var values: [UInt32] = []
        values.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            guard let value = alphabet.firstIndex(of: byte) else { return nil }
            values.append(UInt32(value))
        }
        guard values.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        var index = 0
        while index < values.count {
            let group = values[index..<min(index + 4, values.count)]
            var chunk: UInt32 = 0
            for (offset, value) in group.enumerated() { chunk |= value << (18 - 6 * UInt32(offset)) }
            out.append(UInt8(chunk >> 16 & 255))
            if group.count > 2 { out.append(UInt8(chunk >> 8 & 255)) }
            if group.count > 3 { out.append(UInt8(chunk & 255)) }
            index += 4
        }
        return out
    }
}
