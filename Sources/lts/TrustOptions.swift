import ArgumentParser
import Platform
import Transport

/// How a command-line tool decides to trust the TLS certificates of the
/// servers it talks to (one node, or the two of a pair in order).
struct TrustOptions: ParsableArguments {
    @Option(name: .long, help: "A CA or self-signed certificate file to trust (PEM); for a pair, one per server in order, comma-separated, or one for all.")
    var cacert: String?

    @Option(name: .long, help: "The SHA-256 certificate fingerprint (hex, colons allowed) as a node's log prints it; for a pair, one per server in order, comma-separated.")
    var fingerprint: String?

    @Flag(name: .long, help: "Do not verify certificates at all (testing only; never the default).")
    var insecure = false

    /// Whether anything was given (else a caller may have a default of its own).
    var isGiven: Bool { insecure || fingerprint != nil || cacert != nil }

    /// The trust for one server.
    func resolve() throws -> TLSTrust {
        try resolve(count: 1)[0]
    }

    /// The trust for each of `count` servers in order: a fingerprint or CA
    /// file each (or one for all), or the system's CAs.
    func resolve(count: Int) throws -> [TLSTrust] {
        if insecure { return Array(repeating: .insecure, count: count) }
        if let fingerprint {
            let parsed = try fingerprint.split(separator: ",").map { text -> TLSTrust in
                guard let bytes = SelfSignedCertificate.parseFingerprint(String(text)) else {
                    throw ValidationError("--fingerprint takes 64 hex digits (colons allowed) per server")
                }
                return .pinnedSHA256(bytes)
            }
            guard parsed.count == count || parsed.count == 1 else { throw ValidationError("--fingerprint: give one per server, or one for all") }
            return parsed.count == count ? parsed : Array(repeating: parsed[0], count: count)
        }
        if let cacert {
            let files = cacert.split(separator: ",").map { TLSTrust.caFile(String($0)) }
            guard files.count == count || files.count == 1 else { throw ValidationError("--cacert: give one per server, or one for all") }
            return files.count == count ? files : Array(repeating: files[0], count: count)
        }
        return Array(repeating: .system, count: count)
    }
}
