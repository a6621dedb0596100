import Foundation
import LicenseState
import Platform

/// The pass a drill's load sends as the session password of the drill code
/// (`DrillItem.handshakeCode`): `EXPIRES.MAC`, EXPIRES the pass's end in UTC
/// seconds and MAC the hex HMAC-SHA-256 of `lts drill pass EXPIRES` under a
/// key both nodes of a pair derive from the cluster secret, so a pass the
/// primary issued opens the drill code on the node that takes over.
///
/// Invariant: a pass opens the drill code only while it has not expired,
/// for at most `lifetimeSecondsMax` from its issue (plus
/// `clockSkewSecondsMax`, as the node that checks it may run behind the one
/// that issued it), and only an admin gets one (`POST
/// /dls/api/admin/cluster/drills/pass`). The MAC is compared in constant time.
struct DrillPass {
    /// How long a pass lasts: a drill that runs longer asks for another.
    static let lifetimeSecondsMax: Int64 = 3600
    /// How far the clocks of a pair's nodes may differ for a pass of one to open the code on the other.
    static let clockSkewSecondsMax: Int64 = 300
    private static let passBytesMax = 96

    private let key: [UInt8]

    /// - Parameter tokenKey: the key of grant tokens (the same on both nodes of a pair).
    init(tokenKey: [UInt8]) {
        key = Crypto.hmacSHA256(key: tokenKey, message: Array("lts drill pass key".utf8))
    }

    /// A pass that lasts `lifetimeSecondsMax` from `now`.
    func issue(now: Int64) -> (pass: String, expiresAt: Int64) {
        let expiresAt = now + Self.lifetimeSecondsMax
        return ("\(expiresAt)." + Crypto.hex(mac(expiresAt)), expiresAt)
    }

    /// Whether `pass` is one this pair issued that is still valid at `now`.
    func opens(_ pass: String?, now: Int64) -> Bool {
        guard let pass, pass.utf8.count <= Self.passBytesMax else { return false }
        let parts = pass.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let expiresAt = Int64(parts[0]), expiresAt > now,
              expiresAt <= now + Self.lifetimeSecondsMax + Self.clockSkewSecondsMax else { return false }
        return Crypto.constantTimeEqual(Array(parts[1].utf8), Array(Crypto.hex(mac(expiresAt)).utf8))
    }

    private func mac(_ expiresAt: Int64) -> [UInt8] {
        Crypto.hmacSHA256(key: key, message: Array("lts drill pass \(expiresAt)".utf8))
    }
}
