import Foundation
import Platform

/// The certificate a node serves, as pairing needs it before the node runs:
/// the self-signed one made in the data dir (as `lts serve` makes it), or
/// the operator's file.
///
/// Invariant: `fingerprint` is the SHA-256 of the certificate the node
/// presents with this configuration.
enum NodeCertificate {
    static func fingerprint(_ config: Config) throws -> [UInt8] {
        let path: String
        switch config.tls {
        case .off:
            throw PairingError("TLS is off (\"tls\": false) in \(config.sourcePath ?? "the configuration"): a pair authenticates with TLS; remove the setting")
        case .files(let certificate, _):
            path = certificate
        case .selfSigned:
            let tls = config.dataDir + "/tls"
            try FileManager.default.createDirectory(atPath: tls, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            path = config.dataDir + DataDirectory.certificateFile
            try SelfSignedCertificate.ensure(certificatePath: path, keyPath: config.dataDir + DataDirectory.keyFile, hostNames: config.hostNames)
        }
        guard let fingerprint = SelfSignedCertificate.parseFingerprint(try SelfSignedCertificate.fingerprint(certificatePath: path)) else {
            throw PairingError("cannot read the certificate \(path)")
        }
        return fingerprint
    }
}
