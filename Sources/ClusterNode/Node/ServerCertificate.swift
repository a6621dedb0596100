import Foundation
import LicenseState
import Logging
import Platform
import Transport

/// The TLS context a server (a node or a witness) listens with, as its
/// `tls` setting says, with the certificate's SHA-256 fingerprint logged
/// (what the other side pins).
///
/// Invariant: a self-signed certificate is made once in the data dir and
/// renewed, for the same key, once it has `renewBeforeSeconds` or less
/// left; `.off` gives nil and a warning.
public enum ServerCertificate {
    /// A self-signed certificate is renewed this long before it expires.
    static let renewBeforeSeconds: Int64 = 30 * 86_400

    /// The certificate and key files a setting serves (nil with TLS off).
    static func files(for setting: Config.TLSSetting, dataDir: String) -> (certificate: String, key: String)? {
        switch setting {
        case .off: return nil
        case .files(let certificate, let key): return (certificate, key)
        case .selfSigned: return (dataDir + DataDirectory.certificateFile, dataDir + DataDirectory.keyFile)
        }
    }

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
            try renewIfDue(certificatePath: dataDirectory.certificatePath, keyPath: dataDirectory.keyPath, hostNames: hostNames,
                           nowSeconds: WallClock.nowSeconds(), logger: logger)
            let fingerprint = try SelfSignedCertificate.fingerprint(certificatePath: dataDirectory.certificatePath)
            logger.info("\(created ? "created a self-signed" : "self-signed") TLS certificate \(dataDirectory.certificatePath), SHA-256 fingerprint \(fingerprint)")
            return try TLSServerContext(certificatePath: dataDirectory.certificatePath, keyPath: dataDirectory.keyPath, http2: http2)
        }
    }

    /// Whether a certificate expiring at `notAfter` is renewed at `nowSeconds`.
    static func isDue(notAfter: Int64, nowSeconds: Int64) -> Bool {
        notAfter - nowSeconds <= renewBeforeSeconds
    }

    /// Renews the self-signed certificate for its key when it is due.
    /// - Returns: true when a new certificate was written.
    @discardableResult
    static func renewIfDue(certificatePath: String, keyPath: String, hostNames: [String], nowSeconds: Int64, logger: Logger) throws -> Bool {
        let (_, notAfter) = try SelfSignedCertificate.keyAndExpiry(certificatePath: certificatePath)
        guard isDue(notAfter: notAfter, nowSeconds: nowSeconds) else { return false }
        let (old, new) = try renew(certificatePath: certificatePath, keyPath: keyPath, hostNames: hostNames)
        logger.warning("renewed the self-signed TLS certificate (it expires \(UTCTime.format(notAfter))): new SHA-256 fingerprint \(new), was \(old); the key is the same, so a peer that connected before trusts it")
        return true
    }

    /// Writes a new self-signed certificate for the same key in place of
    /// the one at `certificatePath` (atomically).
    /// - Returns: the old and new SHA-256 fingerprints.
    static func renew(certificatePath: String, keyPath: String, hostNames: [String]) throws -> (old: String, new: String) {
        let old = try SelfSignedCertificate.fingerprint(certificatePath: certificatePath)
        let pem = try SelfSignedCertificate.renewal(keyPath: keyPath, hostNames: hostNames)
        try DurableFile.write(Data(pem), to: certificatePath, mode: 0o644)
        return (old, try SelfSignedCertificate.fingerprint(certificatePath: certificatePath))
    }

    /// `lts tls renew`: renews the self-signed certificate of the node that
    /// `config` describes now, running or not (a running one serves it after
    /// SIGHUP or within the hour).
    /// - Returns: the old and new SHA-256 fingerprints.
    public static func renewNow(config: Config) throws -> (old: String, new: String) {
        guard config.tls == .selfSigned else {
            throw ConfigError(key: "tls", reason: "names certificate files: renew them where they come from (a running node loads them after SIGHUP)")
        }
        return try renew(certificatePath: config.dataDir + DataDirectory.certificateFile, keyPath: config.dataDir + DataDirectory.keyFile,
                         hostNames: config.hostNames)
    }
}
