import ArgumentParser
import Transport

/// How a command-line tool decides to trust a node's TLS certificate.
struct TrustOptions: ParsableArguments {
    @Option(name: .long, help: "A CA or self-signed certificate file to trust (PEM).")
    var cacert: String?

    @Option(name: .long, help: "The node's SHA-256 certificate fingerprint (hex, colons allowed), as its log prints it.")
    var fingerprint: String?

    @Flag(name: .long, help: "Do not verify the certificate at all (testing only).")
    var insecure = false

    func resolve() throws -> TLSTrust {
        if insecure { return .insecure }
        if let fingerprint {
            guard let bytes = SelfSignedCertificate.parseFingerprint(fingerprint) else {
                throw ValidationError("--fingerprint must be 64 hex digits (colons allowed)")
            }
            return .pinnedSHA256(bytes)
        }
        if let cacert { return .caFile(cacert) }
        return .system
    }
}
