import Foundation
import Logging
import Platform
import Transport

/// `POST /dls/cluster/join`: a standby running `lts cluster join` registers
/// here under the token `lts cluster init` made. The main then rewrites its
/// configuration file as the main of the pair (the standby's URL second in
/// `servers`, its certificate pinned, its node UUID recorded as the only
/// peer) and restarts into it.
///
/// Invariant: a join is accepted only with the open invitation's secret
/// before its expiry, once; a refused one changes nothing. Failures count
/// against the address like failed logins.
final class JoinAPI {
    private let loop: EventLoop
    private let config: Config
    private let dataDirectory: DataDirectory
    private let logger: Logger
    /// Called once a join is answered: the node restarts into the new file.
    private let onJoined: () -> Void
    private var limiter = LoginRateLimiter()
    private var joined = false

    init(loop: EventLoop, config: Config, dataDirectory: DataDirectory, logger: Logger, onJoined: @escaping () -> Void) {
        self.loop = loop
        self.config = config
        self.dataDirectory = dataDirectory
        self.logger = logger
        self.onJoined = onJoined
    }

    var routes: [RouteSpec] {
        [("POST", "/cluster/join", HTTPServer.Route(bodyLimitBytes: 4_096) { [unowned self] in self.join($0) })]
    }

    static func refused() -> APIError {
        APIError(status: 403, code: -20420, message: "The join token is not valid here: wrong, used or expired. Run lts cluster init on the main for a new one.")
    }
    static func tooManyAttempts() -> APIError {
        APIError(status: 429, code: -20421, message: "Too many refused joins from this address; wait a minute.")
    }
    static func cannotTakeAStandby(_ reason: String) -> APIError {
        APIError(status: 409, code: -20422, message: "This node cannot take a standby: \(reason).")
    }

    private func join(_ request: HTTPRequest) {
        request.handling {
            var body = try request.jsonObject()
            let secretText = try body.required("secret", maxBytes: 64)
            let url = try body.required("publicUrl", maxBytes: 512)
            let fingerprintText = try body.required("fingerprint", maxBytes: 64)
            let standbyUUID = try body.required("nodeUuid", maxBytes: 36)
            try body.rejectUnknownKeys()
            let address = request.clientAddress
            guard limiter.allows(address, nowMs: loop.nowMs) else { throw Self.tooManyAttempts() }
            guard let secret = SelfSignedCertificate.parseFingerprint(secretText),
                  JoinInvitation.opens(dataDir: dataDirectory.path, secret: secret, nowSeconds: WallClock.nowSeconds()), !joined else {
                limiter.recordFailure(address, nowMs: loop.nowMs)
                logger.warning("join from \(address) refused: wrong, used or expired token")
                throw Self.refused()
            }
            guard let fingerprint = SelfSignedCertificate.parseFingerprint(fingerprintText) else {
                throw APIError.badRequest("The field \"fingerprint\" must be 64 hex digits.")
            }
            guard ReplicationHandshake.isWellFormed(nodeUUID: standbyUUID), standbyUUID != dataDirectory.nodeUUID else {
                throw APIError.badRequest("The field \"nodeUuid\" must be the standby's node UUID.")
            }
            let standbyURL: String
            do {
                standbyURL = try PublicURL.normalized(url, setting: "publicUrl")
            } catch let error as PairingError {
                throw APIError.badRequest("The field \(error.description).")
            }
            guard let path = config.sourcePath else { throw Self.cannotTakeAStandby("it was not started from a configuration file") }
            var file = try ConfigFile.read(path: path)
            guard !file.isStandby else { throw Self.cannotTakeAStandby("it is itself a standby (\(path))") }
            guard let clusterSecret = file.object["clusterSecret"] as? String else {
                throw Self.cannotTakeAStandby("\(path) has no clusterSecret; run lts cluster init here")
            }
            guard standbyURL != file.object["publicUrl"] as? String else { throw APIError.badRequest("The standby's publicUrl is this node's own.") }
            file.object["serverMode"] = "main_standby"
            file.object["servers"] = ["self", standbyURL]
            file.object["peerFingerprint"] = SelfSignedCertificate.formatFingerprint(fingerprint)
            file.object["peerCaFile"] = nil
            let written: Config
            do {
                written = try file.write()
            } catch {
                throw Self.cannotTakeAStandby("\(path) cannot be rewritten: \(error)")
            }
            // The new standby is the only peer: an earlier one's learned keys and UUID go
            // (without the file, the first stream that proves the secret is recorded).
            DurableFile.remove(dataDirectory.peerKeysPath)
            if (try? DurableFile.write(Data((standbyUUID + "\n").utf8), to: dataDirectory.pairedPeerPath)) == nil {
                DurableFile.remove(dataDirectory.pairedPeerPath)
            }
            JoinInvitation.close(dataDir: dataDirectory.path)
            joined = true
            limiter.recordSuccess(address)
            logger.notice("standby \(standbyUUID) at \(standbyURL) joined from \(address), certificate SHA-256 \(SelfSignedCertificate.formatFingerprint(fingerprint)); wrote \(path); restarting as the main of the pair")
            request.respondJSON(["clusterSecret": clusterSecret, "nodeUuid": dataDirectory.nodeUUID,
                                 "heartbeatMs": written.heartbeatMs, "failoverTimeoutMs": written.failoverTimeoutMs,
                                 "degradeAfterMs": written.degradeAfterMs, "replication": written.replication.rawValue])
            onJoined()
        }
    }
}
