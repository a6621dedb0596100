import Foundation
import LicenseState
import Platform

/// `lts cluster join TOKEN`: makes this node the standby of the main the
/// token names. It checks the main by the token's fingerprint, registers
/// its own certificate and the URL the main reaches it at directly there
/// (authenticated by the token's secret),
/// and writes its configuration: the main's URL first in `servers`, the
/// cluster secret and timings the main sent, the main's fingerprint pinned.
///
/// Invariant: the configuration file changes only after the main accepted
/// the join, and then holds what `lts serve` accepts; the data dir's lock is
/// held meanwhile, so the node must not be running.
public enum ClusterJoin {
    /// The settings the main sends that both nodes of a pair must share.
    static let sharedSettings = ["heartbeatMs", "failoverTimeoutMs", "degradeAfterMs", "replication"]

    /// - Returns: lines for the operator.
    public static func run(token text: String, configPath: String?, publicURL: String, nowSeconds: Int64,
                           defaultPaths: [String]) throws -> [String] {
        let token = try JoinToken.parse(text)
        guard nowSeconds <= token.expiresAt else {
            throw PairingError("the join token expired at \(UTCTime.format(token.expiresAt)); run lts cluster init on the main again for a new one")
        }
        var file = try ConfigFile.read(path: configPath ?? ConfigFile.defaultPath(among: defaultPaths))
        let url = try PublicURL.normalized(publicURL, setting: "--public-url")
        guard url != token.url else { throw PairingError("--public-url is the main's own URL; give this node's") }
        // A publicUrl the file has already (a proxy's, for clients) stays.
        if file.object["publicUrl"] == nil { file.object["publicUrl"] = url }
        let provisional = try file.validated()
        let dataDirectory: DataDirectory
        do {
            dataDirectory = try DataDirectory(path: provisional.dataDir)
        } catch let failure as DataDirectory.Failure {
            throw PairingError("\(failure); stop the node before it joins a pair")
        }
        let fingerprint = try NodeCertificate.fingerprint(provisional)
        let answer = try register(at: token, ownURL: url, fingerprint: fingerprint, nodeUUID: dataDirectory.nodeUUID)

        file.object["serverMode"] = "main_standby"
        file.object["servers"] = [token.url, "self"]
        file.object["clusterSecret"] = answer.clusterSecret
        file.object["peerFingerprint"] = SelfSignedCertificate.formatFingerprint(token.fingerprint)
        file.object["peerCaFile"] = nil
        for key in sharedSettings { file.object[key] = answer.settings[key] }
        try file.write()
        withExtendedLifetime(dataDirectory) {}
        DataDirectoryOwner.restore(provisional.dataDir)
        return [
            "the main at \(token.url) took this node (\(dataDirectory.nodeUUID)) as its standby and restarts as the main of the pair",
            "wrote \(file.path): servers [\(token.url), self], the cluster secret, the main's certificate pinned (SHA-256 \(SelfSignedCertificate.formatFingerprint(token.fingerprint)))",
            "start this node with: lts serve --config \(file.path)",
        ]
    }

    /// What the main answered to a join.
    struct Answer {
        var clusterSecret: String
        var settings: [String: Any]
    }

    private static func register(at token: JoinToken, ownURL: String, fingerprint: [UInt8], nodeUUID: String) throws -> Answer {
        let body: [String: Any] = ["secret": Crypto.hex(token.secret), "publicUrl": ownURL,
                                   "fingerprint": Crypto.hex(fingerprint), "nodeUuid": nodeUUID]
        let client = HTTPClient(trust: .pinnedSHA256(token.fingerprint), timeoutMs: 15_000)
        let response: HTTPClient.Response
        do {
            response = try client.send("POST", token.url + "cluster/join", body: try JSONSerialization.data(withJSONObject: body),
                                       headers: ["content-type": "application/json"])
        } catch {
            throw PairingError("cannot reach the main at \(token.url): \(error) (is it running, with the configuration lts cluster init wrote, and is that URL reachable from here? A certificate error means the main presents another certificate than when the token was made)")
        }
        guard response.status == 200, let object = response.json else {
            let reason = response.json.map { "\($0["message"] as? String ?? "") (\($0["code"] as? Int ?? 0))" }
                ?? String(decoding: response.body.prefix(200), as: UTF8.self)
            throw PairingError("the main refused the join: \(response.status) \(reason)")
        }
        guard let secret = object["clusterSecret"] as? String, secret.count >= Config.clusterSecretLengthMin else {
            throw PairingError("the main's answer holds no cluster secret; is it an lts node of this version?")
        }
        return Answer(clusterSecret: secret, settings: object.filter { sharedSettings.contains($0.key) })
    }
}
