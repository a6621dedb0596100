import Foundation
import LicenseState
import Platform

/// `lts cluster init`: makes this node the main of a pair to be: a cluster
/// secret (kept if the file has one), `publicUrl` when the file has none,
/// and a join token for the standby, valid once and for `validSeconds`.
/// The token carries the URL the standby reaches this node at directly
/// (the one it replicates from); a `publicUrl` the file has already (a
/// proxy's, for clients) stays.
///
/// Invariant: on success the configuration file holds what `lts serve`
/// accepts and the data dir holds the token's invitation; on any error
/// neither is changed.
public enum ClusterInit {
    public static let defaultValidHours = 24

    /// - Returns: lines for the operator; the token alone is the last.
    public static func run(configPath: String?, publicURL: String, validSeconds: Int64, nowSeconds: Int64,
                           defaultPaths: [String]) throws -> [String] {
        var file = try ConfigFile.read(path: configPath ?? ConfigFile.defaultPath(among: defaultPaths))
        guard !file.isStandby else {
            throw PairingError("\(file.path) makes this node a standby (\"self\" is second in servers): run lts cluster init on the main")
        }
        let url = try PublicURL.normalized(publicURL, setting: "--public-url")
        let clientURL = (file.object["publicUrl"] as? String) ?? url
        file.object["publicUrl"] = clientURL
        var secretIsNew = false
        if (file.object["clusterSecret"] as? String).map({ $0.count < Config.clusterSecretLengthMin || $0 == Config.placeholderSecret }) ?? true {
            file.object["clusterSecret"] = Crypto.hex(Crypto.randomBytes(32))
            secretIsNew = true
        }
        if file.object["serverMode"] == nil, file.object["servers"] == nil { file.object["serverMode"] = "standalone" }
        let config = try file.validated()
        let fingerprint = try NodeCertificate.fingerprint(config)
        let token = JoinToken(url: url, secret: Crypto.randomBytes(JoinToken.secretBytes), fingerprint: fingerprint,
                              expiresAt: nowSeconds + validSeconds)
        try file.write()
        try JoinInvitation.open(dataDir: config.dataDir, token: token)
        DataDirectoryOwner.restore(config.dataDir)
        return [
            "wrote \(file.path): publicUrl \(clientURL)\(secretIsNew ? ", a new cluster secret" : ", its cluster secret kept")",
            clientURL == url ? "the standby will reach this node at that URL" : "the standby will reach this node directly at \(url) (clients at the publicUrl)",
            "this node's certificate: SHA-256 \(SelfSignedCertificate.formatFingerprint(fingerprint))",
            "start this node (or leave it running) with: lts serve --config \(file.path)",
            "the token below lets one standby join until \(UTCTime.format(token.expiresAt)); on the standby run:",
            "  lts cluster join TOKEN --public-url https://STANDBY-HOST:48080/dls/",
            "when it joins, this node rewrites \(file.path) as the main of the pair and restarts itself",
            token.encoded(),
        ]
    }
}
