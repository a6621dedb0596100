import Foundation

extension Config {
    /// Values from the sample configurations (Config/*.sample) that stand
    /// for "fill in this site's own": a node started with one would run with
    /// a secret everyone knows, or hand clients URLs and pins that lead
    /// nowhere.
    static let placeholderSecret = "replace-with-the-same-long-random-secret-on-both-nodes"
    static let placeholderURLs: Set<String> = ["https://www.example.com:48080/dls/", "https://standby.example.com:48080/dls/",
                                               "https://witness.example.com:48090/"]
    static let placeholderFingerprint = Array([[UInt8]](repeating: [0xAB, 0xCD, 0xEF, 0x01, 0x23, 0x45, 0x67, 0x89], count: 4).joined())
    static let placeholderPassword = "replace-me"

    /// Refuses a setting that still holds a sample's placeholder.
    func rejectPlaceholders() throws {
        func refuse(_ key: String, _ value: String) -> ConfigError {
            ConfigError(key: key, reason: "still holds the sample's placeholder \(value): set this site's own value")
        }
        if clusterSecret == Self.placeholderSecret { throw refuse("clusterSecret", "\"\(Self.placeholderSecret)\"") }
        if let url = servers.first(where: Self.placeholderURLs.contains) { throw refuse("servers", "\"\(url)\"") }
        if let publicUrl, Self.placeholderURLs.contains(publicUrl) { throw refuse("publicUrl", "\"\(publicUrl)\"") }
        if let peerPublicUrl, Self.placeholderURLs.contains(peerPublicUrl) { throw refuse("peerPublicUrl", "\"\(peerPublicUrl)\"") }
        if peerFingerprint == Self.placeholderFingerprint { throw refuse("peerFingerprint", "AB:CD:EF:01:23:45:67:89:…") }
        if case .lts(let url, let trust)? = witness {
            if Self.placeholderURLs.contains(url) { throw refuse("witness.url", "\"\(url)\"") }
            if trust == .pinnedSHA256(Self.placeholderFingerprint) { throw refuse("witness.fingerprint", "AB:CD:EF:01:23:45:67:89:…") }
        }
        if let smtp {
            if smtp.host == "smtp.example.com" { throw refuse("smtp.host", "\"smtp.example.com\"") }
            if smtp.password == Self.placeholderPassword { throw refuse("smtp.password", "\"\(Self.placeholderPassword)\"") }
        }
    }
}
