import Foundation
import Platform
import Transport

extension Config {
    /// Reads the files the settings name as the node will at start: a
    /// missing, unreadable or malformed one is a configuration error naming
    /// its key and path (exit 2), not an OpenSSL message at start.
    func checkFiles() throws {
        if case .files(let certificate, let key) = tls {
            try Self.requireCertificate(certificate, key: "tls.certificate")
            try Self.requireReadable(key, key: "tls.key")
            do {
                _ = try TLSServerContext(certificatePath: certificate, keyPath: key, http2: false)
            } catch {
                throw ConfigError(key: "tls.key", reason: "\"\(key)\" cannot serve \"\(certificate)\": \(error)")
            }
        }
        if let peerCaFile { try Self.requireCertificate(peerCaFile, key: "peerCaFile") }
        if case .certificateFile(let path)? = publicTrust { try Self.requireCertificate(path, key: "publicTrust") }
        if case .certificateFile(let path)? = peerPublicTrust { try Self.requireCertificate(path, key: "peerPublicTrust") }
        switch witness {
        case .lts(_, .caFile(let path))?, .etcd(_, _, .caFile(let path))?: try Self.requireCertificate(path, key: "witness.caFile")
        default: break
        }
        if let caFile = smtp?.caFile { try Self.requireCertificate(caFile, key: "smtp.caFile") }
        _ = try TrustedIssuers.load(paths: trustedIssuers)
    }

    private static func requireCertificate(_ path: String, key: String) throws {
        try requireReadable(path, key: key)
        guard (try? SelfSignedCertificate.fingerprint(certificatePath: path)) != nil else {
            throw ConfigError(key: key, reason: "\"\(path)\" holds no PEM certificate")
        }
    }

    private static func requireReadable(_ path: String, key: String) throws {
        guard FileManager.default.isReadableFile(atPath: path) else {
            let why = FileManager.default.fileExists(atPath: path)
                ? "cannot be read (check its permissions for the user lts runs as)" : "does not exist"
            throw ConfigError(key: key, reason: "\"\(path)\" \(why)")
        }
    }
}
