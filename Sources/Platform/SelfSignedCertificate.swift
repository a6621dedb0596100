import CTLSShim
import Foundation

/// The node's own certificate when the operator configured none: EC P-256,
/// self-signed, made once in the data dir; a leaf (CA:FALSE, digital
/// signature, server authentication), so it can sign nothing else.
public enum SelfSignedCertificate {
    /// Days a generated certificate is valid: the most browsers and Apple's
    /// platforms accept for a TLS server certificate.
    public static let validityDays = 825

    /// Creates the certificate and key unless both files exist.
    /// - Returns: true when new files were written.
    @discardableResult
    public static func ensure(certificatePath: String, keyPath: String, hostNames: [String],
                              validityDays: Int = SelfSignedCertificate.validityDays) throws -> Bool {
        let files = FileManager.default
        if files.fileExists(atPath: certificatePath), files.fileExists(atPath: keyPath) { return false }
        var error = [CChar](repeating: 0, count: 512)
        guard lts_tls_generate_self_signed(certificatePath, keyPath, commonName(hostNames), subjectAlternativeNames(hostNames),
                                           Int32(validityDays), &error, error.count) == 0 else {
            throw TransportError(String(cString: error))
        }
        return true
    }

    /// A new certificate (PEM) for the key at `keyPath`, as `ensure` makes
    /// one: what a renewal writes in place of the old certificate. The key
    /// stays, so a peer that trusts the key trusts the new certificate.
    public static func renewal(keyPath: String, hostNames: [String], validityDays: Int = SelfSignedCertificate.validityDays) throws -> [UInt8] {
        var error = [CChar](repeating: 0, count: 512)
        var length = 0
        guard let pem = lts_tls_certify_key(keyPath, commonName(hostNames), subjectAlternativeNames(hostNames), Int32(validityDays),
                                            &length, &error, error.count) else {
            throw TransportError(String(cString: error))
        }
        defer { free(pem) }
        return Array(UnsafeRawBufferPointer(start: pem, count: length))
    }

    /// The SHA-256 of a PEM certificate's key (its DER SubjectPublicKeyInfo)
    /// and when it expires (Unix seconds).
    public static func keyAndExpiry(certificatePath: String) throws -> (keySHA256: [UInt8], notAfter: Int64) {
        var digest = [UInt8](repeating: 0, count: 32)
        var notAfter: Int64 = 0
        guard lts_tls_cert_info(certificatePath, &digest, &notAfter) == 0 else {
            throw TransportError("cannot read the certificate \(certificatePath)")
        }
        return (digest, notAfter)
    }

    private static func commonName(_ hostNames: [String]) -> String {
        hostNames.first { !$0.isEmpty && !isIPAddress($0) } ?? "localhost"
    }

    private static func subjectAlternativeNames(_ hostNames: [String]) -> String {
        var names = ["DNS:localhost", "IP:127.0.0.1", "IP:::1"]
        for host in hostNames where !host.isEmpty {
            let entry = isIPAddress(host) ? "IP:\(host)" : "DNS:\(host)"
            if !names.contains(entry) { names.append(entry) }
        }
        return names.joined(separator: ",")
    }

    /// The SHA-256 fingerprint of a PEM certificate, as colon-separated hex.
    public static func fingerprint(certificatePath: String) throws -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        guard lts_tls_cert_fingerprint(certificatePath, &digest) == 0 else {
            throw TransportError("cannot read the certificate \(certificatePath)")
        }
        return formatFingerprint(digest)
    }

    /// A digest as fingerprints are written: colon-separated upper-case hex.
    public static func formatFingerprint(_ digest: [UInt8]) -> String {
        digest.map { String(format: "%02X", $0) }.joined(separator: ":")
    }

    /// Parses a fingerprint written as hex, with or without colons.
    public static func parseFingerprint(_ text: String) -> [UInt8]? {
        let hex = text.filter { $0 != ":" }
        guard hex.count == 64 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
