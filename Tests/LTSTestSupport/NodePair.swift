import Foundation
import Platform
import Transport
import XCTest

/// A real main + standby pair on loopback: two `lts serve` processes with
/// pre-made certificates (each trusts the other's), a shared cluster secret,
/// a vendor key both trust, and helpers to find the primary, act as admin
/// and as a client.
///
/// Invariant: node 0 is the main (`servers[0]`), node 1 the standby; their
/// ports are fixed at creation, so either can restart on the same address.
public final class NodePair {
    public static let adminPassword = LicensedNode.adminPassword
    /// How long a role change may take before a test fails.
    public static let roleTimeoutSeconds = 20.0

    public let directory: String
    public let nodes: [NodeProcess]
    public let ports: [Int]
    private var tokens: [Int: String] = [:]

    public var vendorDirectory: String { directory + "/vendor" }

    /// Writes both configurations (not started yet).
    /// - Parameters:
    ///   - extraConfig: settings for both nodes.
    ///   - perNode: settings for one node (by index), applied last.
    ///   - network: run each node in its own namespace of these (default: both on 127.0.0.1).
    ///   - pinFingerprints: each node pins the other's certificate by its
    ///     SHA-256 (`peerFingerprint`) instead of trusting its file (`peerCaFile`).
    public init(extraConfig: [String: Any] = [:], perNode: [Int: [String: Any]] = [:], network: NetworkNamespaces? = nil,
                pinFingerprints: Bool = false) throws {
        directory = NSTemporaryDirectory() + "lts-pair-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let keygen = try NodeProcess.run(["license", "keygen", "--out", directory + "/vendor"])
        guard keygen.status == 0 else { throw TransportError("keygen failed: \(keygen.error)") }
        // In namespaces each node has an address of its own, so both may take the same port.
        ports = network == nil ? [try Self.freePort(), try Self.freePort()] : [48_443, 48_443]
        let hosts = (0..<2).map { network?.address($0) ?? "127.0.0.1" }
        var certificates: [String] = []
        for index in 0..<2 {
            let tls = directory + "/node\(index)/data/tls"
            try FileManager.default.createDirectory(atPath: tls, withIntermediateDirectories: true)
            _ = try SelfSignedCertificate.ensure(certificatePath: tls + "/node.crt", keyPath: tls + "/node.key", hostNames: [hosts[index]])
            certificates.append(tls + "/node.crt")
        }
        var made: [NodeProcess] = []
        for index in 0..<2 {
            let peer = "https://\(hosts[1 - index]):\(ports[1 - index])/dls/"
            var config: [String: Any] = [
                "serverMode": "main_standby", "servers": index == 0 ? ["self", peer] : [peer, "self"],
                "listen": "\(hosts[index]):\(ports[index])", "dataDir": "data", "clusterSecret": "pair test secret 0123456789",
                "trustedIssuers": ["../vendor/issuer.pub"],
            ]
            if pinFingerprints {
                config["peerFingerprint"] = try SelfSignedCertificate.fingerprint(certificatePath: certificates[1 - index])
            } else {
                config["peerCaFile"] = certificates[1 - index]
            }
            for (key, value) in extraConfig { config[key] = value }
            for (key, value) in perNode[index] ?? [:] { config[key] = value }
            made.append(try NodeProcess(config: config, directory: directory + "/node\(index)", host: hosts[index],
                                        launcher: network?.launcher(index) ?? []))
        }
        nodes = made
    }

    /// A port P such that P and P + 1 are both free right now (for a pair
    /// whose standby takes the main's port + 1); with `count` 3, P + 2 is
    /// free too (for `lts pair --witness`).
    public static func freeAdjacentPorts(count: Int = 2) throws -> Int {
        for _ in 0..<100 {
            let port = try freePort()
            guard port + count - 1 <= 65_535 else { continue }
            if (1..<count).allSatisfy({ (try? isFree(port + $0)) == true }) { return port }
        }
        throw TransportError("no \(count) adjacent free ports found")
    }

    private static func isFree(_ port: Int) throws -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TransportError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A port nothing listens on right now (the kernel's choice).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TransportError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TransportError("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts both nodes and waits until one is primary and the other's
    /// stream is attached; returns the primary's index.
    @discardableResult
    public func startBoth() throws -> Int {
        try nodes[0].start()
        try nodes[1].start()
        return try waitForAttachedPair()
    }

    /// The node's health answer, or nil when it does not answer.
    public func health(_ index: Int) -> [String: Any]? {
        guard nodes[index].process?.isRunning == true else { return nil }
        return try? HTTPClient(trust: .pinnedSHA256(nodes[index].fingerprint), timeoutMs: 1_000)
            .send("GET", nodes[index].url("/api/health")).json
    }

    /// Waits until `condition` holds, checking every 20 ms (each check is a
    /// request to a real process), at most `timeoutSeconds`.
    public func wait(timeoutSeconds: Double = NodePair.roleTimeoutSeconds, for what: String,
                     _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if try condition() { return }
            usleep(20_000)
        }
        throw TransportError("timed out after \(timeoutSeconds) s waiting for \(what); logs:\n" + nodes.enumerated().map {
            "--- node \($0.offset)\n" + $0.element.logText.split(separator: "\n").suffix(40).joined(separator: "\n")
        }.joined(separator: "\n"))
    }

    /// Waits until `index` reports `role`.
    public func waitForRole(_ index: Int, _ role: String, timeoutSeconds: Double = NodePair.roleTimeoutSeconds) throws {
        try wait(timeoutSeconds: timeoutSeconds, for: "node \(index) to be \(role)") { health(index)?["role"] as? String == role }
    }

    /// Waits until one node is primary and the other reports its stream
    /// attached; returns the primary's index.
    @discardableResult
    public func waitForAttachedPair() throws -> Int {
        var primary = -1
        try wait(for: "a primary with an attached standby") {
            for index in 0..<2 where health(index)?["role"] as? String == "primary" {
                let standby = health(1 - index)
                if standby?["role"] as? String == "standby", (standby?["peer"] as? [String: Any])?["state"] as? String == "attached" {
                    primary = index
                    return true
                }
            }
            return false
        }
        return primary
    }

    // MARK: Admin and clients

    public func client(_ index: Int) -> HTTPClient { nodes[index].client }

    /// Both nodes' base URLs and how to trust each (for a failover load).
    public var servers: [(url: String, trust: TLSTrust)] {
        nodes.map { ($0.url("/"), .pinnedSHA256($0.fingerprint)) }
    }

    /// Sets the first admin password on `index` (the primary) and logs in there.
    /// Sets the first admin password on node `index` and logs in; in
    /// namespaces the test is another machine to the node, so it sends the
    /// setup token from the node's data dir, as an operator would.
    public func setUpAdmin(on index: Int) throws {
        var fields: [String: Any] = ["password": Self.adminPassword]
        if let token = try? String(contentsOfFile: nodes[index].directory + "/data/setup-token", encoding: .utf8) {
            fields["setupToken"] = token.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let set = try client(index).send("POST", nodes[index].url("/api/admin/password"), body: json(fields))
        guard set.status == 201 else { throw TransportError("setting the password failed: \(set.status) \(String(decoding: set.body, as: UTF8.self))") }
        try login(index)
    }

    public func login(_ index: Int) throws {
        let response = try client(index).send("POST", nodes[index].url("/api/admin/login"), body: json(["password": Self.adminPassword]))
        guard let token = response.json?["token"] as? String else { throw TransportError("login on node \(index) failed: \(response.status)") }
        tokens[index] = token
    }

    /// An admin call on `index` (logs in first if needed), given up after
    /// `timeoutMs` (the client's default unless given).
    /// Sessions live in a node's memory: after a restart this logs in again.
    public func admin(_ index: Int, _ method: String, _ path: String, body: Data? = nil, timeoutMs: Int? = nil) throws -> HTTPClient.Response {
        if tokens[index] == nil { try login(index) }
        let client = timeoutMs.map { HTTPClient(trust: .pinnedSHA256(nodes[index].fingerprint), timeoutMs: $0) } ?? client(index)
        let response = try client.send(method, nodes[index].url(path), body: body, headers: ["Authorization": "Bearer \(tokens[index]!)"])
        guard response.status == 401 else { return response }
        try login(index)
        return try client.send(method, nodes[index].url(path), body: body, headers: ["Authorization": "Bearer \(tokens[index]!)"])
    }

    /// Mints a license with `lts license issue` and imports it on `index`; returns the handshake code.
    public func importLicense(on index: Int, items: [String], boundTo: String = "*") throws -> String {
        let response = try importLicenseAnswer(on: index, items: items, boundTo: boundTo)
        guard let code = response.json?["handshakeCode"] as? String else {
            throw TransportError("import failed: \(response.status) \(String(decoding: response.body, as: UTF8.self))")
        }
        return code
    }

    /// Mints a license bound to `boundTo` and sends it to `index`; returns the answer, whatever it is.
    public func importLicenseAnswer(on index: Int, items: [String], boundTo: String, org: String = "acme") throws -> HTTPClient.Response {
        let path = directory + "/\(UUID().uuidString).json"
        var arguments = ["license", "issue", "--key", vendorDirectory + "/issuer.key", "--org", org, "--bound-to", boundTo, "--out", path]
        for item in items { arguments += ["--item", item] }
        let issued = try NodeProcess.run(arguments)
        guard issued.status == 0 else { throw TransportError("issue failed: \(issued.error)") }
        return try admin(index, "POST", "/api/admin/licenses", body: try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Every grant node `index` lists.
    public func grants(_ index: Int) throws -> [[String: Any]] {
        let response = try admin(index, "GET", "/api/admin/grants?since=0&limit=10000")
        return (try JSONSerialization.jsonObject(with: response.body) as? [[String: Any]]) ?? []
    }
}
