import Foundation
import LicenseClient
import LicenseState
import Transport

/// `GET /dls/api/admin/handshakes/{code}/client-key`: the client key of a
/// handshake code (`lts client key`), for the portal to show: the servers
/// as `servers` names them ("self" as this node's URL), each at the URL and
/// with the pin clients will really meet there (see `servers(of:…)`).
///
/// Invariant: the key names exactly the configured servers, in order.
final class ClientKeyAPI {
    private let service: LicenseService
    private let admin: AdminAPI
    private let servers: [ClientKey.Server]

    init(service: LicenseService, admin: AdminAPI, servers: [ClientKey.Server]) {
        self.service = service
        self.admin = admin
        self.servers = servers
    }

    var routes: [RouteSpec] {
        [("GET", "/api/admin/handshakes/{code}/client-key", HTTPServer.Route { [unowned self] in self.clientKey($0) })]
    }

    private func clientKey(_ request: HTTPRequest) {
        guard admin.authorized(request) else { return }
        let code = request.parameters["code"] ?? ""
        guard let handshake = service.state.handshakes[code], !handshake.deleted else {
            return request.respond(licenseError: .unknownHandshake(code))
        }
        request.respondJSON(["code": code, "clientKey": ClientKey(handshakeCode: code, servers: servers).text])
    }

    /// The servers of this node's client keys: this node at its
    /// `publicUrl` (else its listen address), the peer at its
    /// `peerPublicUrl` (else its `servers` URL), each pinned as
    /// `publicTrust`/`peerPublicTrust` say, or, when they say nothing, by
    /// the certificate the node itself serves (`ownFingerprint`) and the
    /// peer's `peerFingerprint`.
    /// - Parameter ownFingerprint: the SHA-256 of this node's certificate
    ///   when it is self-signed (clients pin it), else nil (CA-verified).
    /// - Throws: a `ConfigError` when a certificate file named by a trust
    ///   setting can no longer be read.
    static func servers(of config: Config, ownURL: String, ownFingerprint: [UInt8]?) throws -> [ClientKey.Server] {
        let configured = config.servers.isEmpty ? ["self"] : config.servers
        return try configured.map { url in
            if url == "self" {
                return ClientKey.Server(url: ownURL, fingerprint: try config.publicTrust.map { try $0.pin(key: "publicTrust") } ?? ownFingerprint)
            }
            return ClientKey.Server(url: config.peerPublicUrl ?? url,
                                    fingerprint: try config.peerPublicTrust.map { try $0.pin(key: "peerPublicTrust") } ?? config.peerFingerprint)
        }
    }
}
