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
        guard let files = ServerCertificate.files(for: config.tls, dataDir: config.dataDir) else {
            throw PairingError("TLS is off (\"tls\": false) in \(config.sourcePath ?? "the configuration"): a pair authenticates with TLS; remove the setting")
        }
        if config.tls == .selfSigned {
            try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: files.certificate).deletingLastPathComponent().path,
                                                    withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try SelfSignedCertificate.ensure(certificatePath: files.certificate, keyPath: files.key, hostNames: config.hostNames)
        }
        guard let fingerprint = SelfSignedCertificate.parseFingerprint(try SelfSignedCertificate.fingerprint(certificatePath: files.certificate)) else {
            throw PairingError("cannot read the certificate \(files.certificate)")
        }
        return fingerprint
    }
}
