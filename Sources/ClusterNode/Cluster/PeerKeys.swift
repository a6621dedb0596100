import Foundation
import Logging
import Platform
import Transport

/// The keys of the peer's (or the witness's) TLS certificates this node has
/// verified on a connection that then proved the cluster secret (a
/// replication stream, a witness answer), kept in `tls/peer-keys` (or
/// `tls/witness-keys`) of the data dir: a certificate renewed for the same
/// key (every 795 days, see `ServerCertificate`) stays trusted, with no
/// fingerprint copied again.
///
/// Invariant: at most `keptMax` keys, most recent last, each 32 bytes; the
/// file is rewritten whole (atomically) when a key is learned.
final class PeerKeys {
    static let keptMax = 4

    let path: String
    /// Whose keys: "peer" or "witness" (for log lines).
    let peer: String
    /// The setting that pins it (for log lines).
    let pinSetting: String
    private(set) var keys: [[UInt8]]
    /// Certificates already logged as presented by the peer.
    private var seenCertificates: Set<[UInt8]> = []

    /// Reads the file (none yet: no key). Throws for a file that is not
    /// lines of 64 hex digits.
    init(path: String, peer: String = "peer", pinSetting: String = "peerFingerprint") throws {
        self.path = path
        self.peer = peer
        self.pinSetting = pinSetting
        guard let data = FileManager.default.contents(atPath: path) else {
            keys = []
            return
        }
        var keys: [[UInt8]] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let key = SelfSignedCertificate.parseFingerprint(String(line)) else {
                throw StoreFailure("\(path) holds \"\(line.prefix(80))\", not a key digest (64 hex digits); delete the file to learn the peer's key again")
            }
            keys.append(key)
        }
        self.keys = Array(keys.suffix(Self.keptMax))
    }

    /// Records the peer's certificate and key, verified by `context` on a
    /// stream the peer proved: learns the key if new, and logs a
    /// certificate that is not the pinned one once.
    /// - Returns: true when the key is new (a context must be made anew to trust it).
    func proven(certificate: [UInt8], key: [UInt8], pinned: [UInt8]?, logger: Logger) -> Bool {
        if let pinned, certificate != pinned, seenCertificates.insert(certificate).inserted {
            logger.warning("the \(peer) presents the TLS certificate \(SelfSignedCertificate.formatFingerprint(certificate)), not the pinned \(SelfSignedCertificate.formatFingerprint(pinned)) (\(pinSetting)): trusted because its key is one this node verified before (a renewal); update \(pinSetting) when convenient")
        }
        guard !keys.contains(key) else { return false }
        let kept = Array((keys + [key]).suffix(Self.keptMax))
        do {
            try DurableFile.write(Data(kept.map { Crypto.hex($0) + "\n" }.joined().utf8), to: path)
        } catch {
            logger.error("cannot record the \(peer)'s TLS key in \(path): \(error); a renewed \(peer) certificate will need \(pinSetting) updated")
            return false
        }
        keys = kept
        logger.info("learned the \(peer)'s TLS key \(SelfSignedCertificate.formatFingerprint(key)) (certificate \(SelfSignedCertificate.formatFingerprint(certificate))): a certificate it renews for this key stays trusted")
        return true
    }
}
