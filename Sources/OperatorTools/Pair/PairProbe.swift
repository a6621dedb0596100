import ClusterNode
import Foundation
import Platform
import Transport

/// What a tool outside a pair sees of it over HTTPS: each node's health,
/// its cluster status and grants, and the admin set-up of a fresh pair.
/// Blocking calls; for `lts bench failover`, `lts pair` and `lts drill`.
///
/// Invariant: node `i` is reached at `urls[i]`, trusted as `trusts[i]`.
final class PairProbe {
    /// How often a condition is checked while waiting for it.
    static let pollMicroseconds: UInt32 = 5_000
    static let adminPassword = "bench admin password"

    let urls: [String]
    /// Health polls: a stopped node must not hold them long.
    private let clients: [HTTPClient]
    /// Admin calls: a login hashes the password, slow on a node under load.
    private let adminClients: [HTTPClient]
    private let password: String
    private var token: [Int: String] = [:]
    /// Raised (by Ctrl-C in a drill): every wait ends at once.
    let interrupted = StopFlag()

    init(urls: [String], trusts: [TLSTrust], password: String = PairProbe.adminPassword) {
        self.urls = urls.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
        clients = trusts.map { HTTPClient(trust: $0, timeoutMs: 1_000) }
        adminClients = trusts.map { HTTPClient(trust: $0, timeoutMs: 10_000) }
        self.password = password
    }

    func call(_ index: Int, _ method: String, _ path: String, body: [String: Any]? = nil, raw: Data? = nil,
                      admin: Bool = false) throws -> HTTPClient.Response {
        var headers: [String: String] = [:]
        if admin {
            if token[index] == nil { try login(index) }
            headers["Authorization"] = "Bearer \(token[index]!)"
        }
        let data = try raw ?? body.map { try JSONSerialization.data(withJSONObject: $0) }
        let client = admin || path.hasPrefix("api/admin/") ? adminClients[index] : clients[index]
        let response = try client.send(method, urls[index] + path, body: data, headers: headers)
        if admin, response.status == 401 {
            // Sessions live in a node's memory: a restarted node needs a new one.
            token[index] = nil
            return try call(index, method, path, body: body, raw: raw, admin: true)
        }
        return response
    }

    private func login(_ index: Int) throws {
        let response = try call(index, "POST", "api/admin/login", body: ["password": password])
        guard let value = response.json?["token"] as? String else { throw BenchFailure("cannot log in on \(urls[index]): HTTP \(response.status)") }
        token[index] = value
    }

    func health(_ index: Int) -> [String: Any]? { try? call(index, "GET", "api/health").json }

    func cluster(_ index: Int) throws -> [String: Any] { try call(index, "GET", "api/admin/cluster", admin: true).json ?? [:] }

    /// Waits until `condition` holds.
    /// Waits until `condition` holds; throws when the time runs out or
    /// `interrupted` is raised.
    func wait(timeoutSeconds: Double, for what: String, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if interrupted.isRaised { throw BenchFailure("interrupted while waiting for \(what)") }
            if try condition() { return }
            usleep(Self.pollMicroseconds)
        }
        throw BenchFailure("timed out after \(timeoutSeconds) s waiting for \(what)")
    }

    func waitForRole(_ index: Int, _ role: String, timeoutSeconds: Double) throws {
        try wait(timeoutSeconds: timeoutSeconds, for: "node \(index) to be \(role)") { health(index)?["role"] as? String == role }
    }

    /// Waits until one node is primary and the other is attached to it and
    /// holds at least the log the primary had just before (under load the
    /// two are rarely equal at one instant); returns the primary's index.
    func waitForAttachedPair(timeoutSeconds: Double) throws -> Int {
        var primary = -1
        try wait(timeoutSeconds: timeoutSeconds, for: "a primary with a caught-up standby") {
            for index in 0..<2 {
                guard let lead = health(index), lead["role"] as? String == "primary", let follow = health(1 - index),
                      (follow["peer"] as? [String: Any])?["state"] as? String == "attached",
                      let leadLsn = lead["lsn"] as? Int, let followLsn = follow["lsn"] as? Int, followLsn >= leadLsn else { continue }
                primary = index
                return true
            }
            return false
        }
        return primary
    }

    /// Sets the admin password on the primary (unless one is set) and
    /// imports `license` (unless it is imported); returns the first handshake code.
    func setUp(on index: Int, license: String) throws -> String {
        _ = try call(index, "POST", "api/admin/password", body: ["password": password])
        let response = try call(index, "POST", "api/admin/licenses", raw: try Data(contentsOf: URL(fileURLWithPath: license)), admin: true)
        if let code = response.json?["handshakeCode"] as? String { return code }
        guard response.json?["code"] as? Int == -20304, let code = try handshakeCodes(on: index).first else {
            throw BenchFailure("importing the demo license failed: HTTP \(response.status) \(String(decoding: response.body, as: UTF8.self))")
        }
        return code
    }

    /// The handshake codes node `index` lists, in order.
    func handshakeCodes(on index: Int) throws -> [String] {
        let response = try call(index, "GET", "api/admin/handshakes", admin: true)
        let list = (try? JSONSerialization.jsonObject(with: response.body) as? [[String: Any]]) ?? []
        return list.compactMap { $0["code"] as? String }
    }

    /// Every grant ID node `index` lists.
    func grantIds(on index: Int) throws -> Set<String> {
        Set(try grants(on: index).map(\.grantId))
    }

    /// Every grant node `index` lists: its ID and request ID, oldest first.
    func grants(on index: Int) throws -> [(grantId: String, requestId: String?)] {
        var grants: [(grantId: String, requestId: String?)] = []
        var since = 0
        while true {
            let response = try call(index, "GET", "api/admin/grants?since=\(since)&limit=\(AdminAPI.grantsPageMax)", admin: true)
            guard response.status == 200 else { throw BenchFailure("listing the grants on \(urls[index]) failed: HTTP \(response.status)") }
            let page = (try JSONSerialization.jsonObject(with: response.body) as? [[String: Any]]) ?? []
            for grant in page { if let id = grant["grantId"] as? String { grants.append((id, grant["requestId"] as? String)) } }
            guard page.count == AdminAPI.grantsPageMax, let last = page.last?["lsn"] as? Int else { return grants }
            since = last
        }
    }
}

/// A benchmark could not run to its end; the message says where.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
