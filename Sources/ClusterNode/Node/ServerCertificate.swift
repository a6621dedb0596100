import Logging
import Platform
import Transport

/// The TLS context a server (a node or a witness) listens with, as its
/// `tls` setting says, with the certificate's SHA-256 fingerprint logged
/// (what the other side pins).
///
/// Invariant: a self-signed certificate is made once in the data dir and
/// kept; `.off` gives nil and a warning.
enum ServerCertificate {
    static func context(for setting: Config.TLSSetting, dataDirectory: DataDirectory, hostNames: [String], http2: Bool,
                        logger: Logger) throws -> TLSServerContext? {
        switch setting {
        case .off:
            logger.warning("TLS is off (\"tls\": false): traffic to this node is not encrypted")
            return nil
        case .files(let certificate, let key):
            let context = try TLSServerContext(certificatePath: certificate, keyPath: key, http2: http2)
            let fingerprint = try SelfSignedCertificate.fingerprint(certificatePath: certificate)
            logger.info("TLS certificate \(certificate), SHA-256 fingerprint \(fingerprint)")
            return context
        case .selfSigned:
            let created = try SelfSignedCertificate.ensure(certificatePath: dataDirectory.certificatePath,
                                                           keyPath: dataDirectory.keyPath, hostNames: hostNames)
            let fingerprint = try SelfSignedCertificate.fingerprint(certificatePath: dataDirectory.certificatePath)
            logger.info("\(created ? "created a self-signed" : "self-signed") TLS certificate \(dataDirectory.certificatePath), SHA-256 fingerprint \(fingerprint)")
            return try TLSServerContext(certificatePath: dataDirectory.certificatePath, keyPath: dataDirectory.keyPath, http2: http2)
        }
    }
}
