import Foundation
import Platform
import Transport
import XCTest

/// A real node that trusts a fresh vendor key, with the admin password set
/// and a session open: the starting point of license tests.
public final class LicensedNode {
    public static let adminPassword = "correct horse battery staple"

    public let node: NodeProcess
    public private(set) var token = ""

    public var vendorDirectory: String { node.directory + "/vendor" }

    /// Makes the vendor key with `lts license keygen`, writes the config and starts the node.
    public init(extraConfig: [String: Any] = [:]) throws {
        let directory = NSTemporaryDirectory() + "lts-licensed-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let keygen = try NodeProcess.run(["license", "keygen", "--out", directory + "/vendor"])
        guard keygen.status == 0 else { throw TransportError("keygen failed: \(keygen.error)") }
        var config: [String: Any] = ["serverMode": "standalone", "listen": "127.0.0.1:0", "dataDir": "data",
                                     "trustedIssuers": ["vendor/issuer.pub"]]
        for (key, value) in extraConfig { config[key] = value }
        node = try NodeProcess(config: config, directory: directory)
        try node.start()
        let set = try node.client.send("POST", node.url("/api/admin/password"), body: json(["password": Self.adminPassword]))
        guard set.status == 201 else { throw TransportError("setting the password failed: \(set.status)") }
        try login()
    }

    /// Opens a new admin session.
    public func login() throws {
        let response = try node.client.send("POST", node.url("/api/admin/login"), body: json(["password": Self.adminPassword]))
        guard let token = response.json?["token"] as? String else { throw TransportError("login failed: \(response.status)") }
        self.token = token
    }

    /// Restarts the node on the same data dir (and port 0: a new port).
    public func restart(signal: Int32 = SIGTERM) throws {
        node.stop(signal: signal)
        try node.start()
        try login()
    }

    /// Mints a license file with `lts license issue`; returns its path.
    public func issue(org: String = "acme", boundTo: String = "*", items: [String], name: String? = nil,
                      key: String? = nil) throws -> String {
        let path = node.directory + "/\(name ?? UUID().uuidString).json"
        var arguments = ["license", "issue", "--key", key ?? vendorDirectory + "/issuer.key", "--org", org, "--bound-to", boundTo,
                         "--out", path]
        for item in items { arguments += ["--item", item] }
        let result = try NodeProcess.run(arguments)
        guard result.status == 0 else { throw TransportError("issue failed: \(result.error)") }
        return path
    }

    /// Uploads a license file; returns the response.
    public func importLicense(_ path: String) throws -> HTTPClient.Response {
        try admin("POST", "/api/admin/licenses", body: try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// An admin call with the session token.
    public func admin(_ method: String, _ path: String, body: Data? = nil) throws -> HTTPClient.Response {
        try node.client.send(method, node.url(path), body: body, headers: ["Authorization": "Bearer \(token)"])
    }

    /// A client call (authorize, report, heartbeat, release).
    public func client(_ call: String, _ fields: [String: Any]) throws -> HTTPClient.Response {
        try node.client.send("POST", node.url("/api/v1/\(call)"), body: json(fields))
    }

    /// The node's health answer.
    public func health() throws -> [String: Any] {
        try node.client.send("GET", node.url("/api/health")).json ?? [:]
    }

    /// The admin items list, by item ID.
    public func items() throws -> [String: [String: Any]] {
        let list = (try JSONSerialization.jsonObject(with: try admin("GET", "/api/admin/items").body) as? [[String: Any]]) ?? []
        return Dictionary(uniqueKeysWithValues: list.map { ($0["itemId"] as! String, $0) })
    }

    /// Every grant the admin API lists.
    public func grants() throws -> [[String: Any]] {
        var all: [[String: Any]] = []
        var since = 0
        while true {
            let page = (try JSONSerialization.jsonObject(with: try admin("GET", "/api/admin/grants?since=\(since)&limit=10000").body)
                as? [[String: Any]]) ?? []
            all += page
            guard let last = page.last?["lsn"] as? Int, page.count == 10000 else { return all }
            since = last
        }
    }
}

/// JSON bytes of an object (test helper).
public func json(_ object: [String: Any]) -> Data {
    (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
}

extension HTTPClient.Response {
    /// `name=value` of the session cookie a login answer sets (the name
    /// differs per node), for a `Cookie` header.
    public var sessionCookie: String? {
        headers["set-cookie"]?.split(separator: ";").first.map(String.init)
    }
}
