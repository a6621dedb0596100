import Foundation
import LicenseState
import Platform
import Transport

/// A node's validated configuration (`lts.json`, or the legacy `dls.json`).
///
/// Invariant: a `Config` value has passed every check of `parse`: known keys
/// only, the right types, `servers` consistent with `serverMode`, timings
/// that make failover possible. Relative paths are already resolved against
/// the directory of the file.
public struct Config: Equatable {
    enum ServerMode: String, Equatable { case mainStandby = "main_standby", standalone }
    enum ReplicationMode: String, Equatable { case sync, async }

    /// TLS as configured: off (`"tls": false`), the operator's files, or a
    /// self-signed certificate made in the data dir.
    enum TLSSetting: Equatable {
        case off
        case files(certificate: String, key: String)
        case selfSigned
    }

    /// Outgoing mail settings (used by usage alerts).
    struct SMTP: Equatable {
        var host: String
        var port: Int
        var security: String
        var username: String?
        var password: String?
        var from: String?
        /// The CA (or the server's own certificate) to verify the mail server
        /// with, instead of the system's CAs. It also applies to a mail server
        /// set in the portal, since a path belongs to this node.
        var caFile: String?
        /// Bounds one delivery attempt, connecting included (default 15 s).
        var timeoutSeconds: Int = 15
    }

    /// Usage alert settings from the file; the portal's, once saved, win.
    struct Alerts: Equatable {
        var recipients: [String]
        var checkMilliseconds: Int64
        var standbyLagMinutes: Int64
    }

    /// The witness of a pair: `lts witness` (`{"url", "fingerprint" | "caFile"}`)
    /// or an etcd cluster (`{"etcd": [URL…], "keyPrefix", "caFile"?}`).
    enum Witness: Equatable {
        case lts(url: String, trust: TLSTrust)
        case etcd(endpoints: [String], keyPrefix: String, trust: TLSTrust)
    }

    static let fileNames = ["lts.json", "dls.json"]
    static let defaultPort = 48080
    static let clusterSecretLengthMin = 16

    var serverMode: ServerMode
    /// The `servers` list as written: URLs and exactly one `"self"` in main_standby mode.
    var servers: [String]
    var listenHost: String
    var listenPort: Int
    var dataDir: String
    var tls: TLSSetting
    var http2: Bool
    var publicUrl: String?
    /// How clients verify `publicUrl` (nil: by this node's own certificate,
    /// pinned when self-signed).
    var publicTrust: PublicTrust?
    /// The other node's URL as clients see it, for client keys (nil: its
    /// URL in `servers`).
    var peerPublicUrl: String?
    /// How clients verify `peerPublicUrl` (nil: as this node verifies the
    /// peer, pinned by `peerFingerprint` when set).
    var peerPublicTrust: PublicTrust?
    /// The proxies in front of this node whose X-Forwarded-For names the
    /// client (none by default: every request's client is its TCP peer).
    var trustedProxies = TrustedProxies()
    var clusterSecret: String?
    var heartbeatMs: Int
    var failoverTimeoutMs: Int
    var degradeAfterMs: Int
    var replication: ReplicationMode
    /// A checkpoint of the state every this many log records (0 = never).
    var logCheckpointRecords: Int
    /// Log records kept behind what both nodes hold (a standby further
    /// behind gets a snapshot).
    var logRetainedRecords: Int
    var trustedIssuers: [String]
    var smtp: SMTP?
    var alerts: Alerts?
    /// How this node verifies the peer's TLS certificate: the peer's SHA-256
    /// certificate fingerprint, a CA (or the peer's own) certificate file,
    /// or (neither given) the system's CAs.
    var peerFingerprint: [UInt8]?
    var peerCaFile: String?
    /// The third party that decides terms (nil: none; a cut link then lets
    /// both nodes answer, reconciled after).
    var witness: Witness?
    /// Caps on connections, as set in `"connections"` (a key left out takes
    /// its default from the open-file limit at start).
    var connections: ConnectionCaps = ConnectionCaps()
    /// How the process writes its log (`"logFormat"`: `text` or `json`).
    public var logFormat: LogFormat = .text
    /// The file this configuration was read from (`load`), which pairing
    /// rewrites; nil for one parsed from bytes.
    var sourcePath: String?

    /// `"connections": {"max", "perAddress", "handshakesMax", "handshakesPerAddress"}`.
    struct ConnectionCaps: Equatable {
        var max: Int?
        var perAddress: Int?
        var handshakesMax: Int?
        var handshakesPerAddress: Int?

        /// The limits for a process allowed `descriptors` open files.
        func limits(descriptors: Int) -> ConnectionLimits {
            let defaults = ConnectionLimits.defaults(descriptors: descriptors)
            return ConnectionLimits(total: max ?? defaults.total, perAddress: perAddress ?? defaults.perAddress,
                                    fresh: handshakesMax ?? defaults.fresh, freshPerAddress: handshakesPerAddress ?? defaults.freshPerAddress,
                                    resetsPerSecond: defaults.resetsPerSecond)
        }
    }

    /// The URL of the other node, in main_standby mode.
    var peerURL: String? { servers.first { $0 != "self" } }

    /// This node's position in `servers` (0 = main, 1 = standby).
    var selfIndex: Int? { servers.firstIndex(of: "self") }

    /// Host names for a self-signed certificate: from `publicUrl` and `listen`.
    var hostNames: [String] {
        var names: [String] = []
        if let publicUrl, let host = URLComponents(string: publicUrl)?.host { names.append(host) }
        if !["0.0.0.0", "::", ""].contains(listenHost), !names.contains(listenHost) { names.append(listenHost) }
        return names
    }

    // MARK: Loading

    /// Reads and validates a configuration file, and the files it names.
    public static func load(path: String) throws -> Config {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(key: "", reason: "cannot read \(path)")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var config = try parse(data, baseDirectory: base)
        config.sourcePath = path
        try config.checkFiles()
        return config
    }

    /// Validates configuration JSON; relative paths resolve against `baseDirectory`.
    public static func parse(_ data: Data, baseDirectory: String) throws -> Config {
        do {
            return try parseFields(data, baseDirectory: baseDirectory)
        } catch let error as JSONFieldError {
            if error.key.isEmpty { throw ConfigError(key: "", reason: "the file is not a JSON object") }
            let hint = error.reason == "is not a known field" ? "is not a known setting (check its spelling in Config/lts.json.sample)" : error.reason
            throw ConfigError(key: error.key, reason: hint)
        }
    }

    private static func parseFields(_ data: Data, baseDirectory: String) throws -> Config {
        var reader = try JSONObjectReader.parse(data)
        let servers = try reader.stringArray("servers") ?? ["self"]
        let modeText = try reader.string("serverMode") ?? (servers.count == 2 ? ServerMode.mainStandby.rawValue : ServerMode.standalone.rawValue)
        guard let mode = ServerMode(rawValue: modeText) else {
            throw ConfigError(key: "serverMode", reason: "must be \"main_standby\" or \"standalone\", not \"\(modeText)\"")
        }
        let (host, port) = try parseListen(try reader.string("listen") ?? "0.0.0.0:\(defaultPort)")
        let dataDir = resolve(try reader.string("dataDir") ?? "lts-data", against: baseDirectory)
        let tls = try parseTLS(&reader, baseDirectory: baseDirectory)
        let replicationText = try reader.string("replication") ?? ReplicationMode.sync.rawValue
        guard let replication = ReplicationMode(rawValue: replicationText) else {
            throw ConfigError(key: "replication", reason: "must be \"sync\" or \"async\", not \"\(replicationText)\"")
        }
        let config = Config(
            serverMode: mode,
            servers: servers,
            listenHost: host,
            listenPort: port,
            dataDir: dataDir,
            tls: tls,
            http2: try reader.bool("http2") ?? false,
            publicUrl: try reader.string("publicUrl"),
            publicTrust: try reader.string("publicTrust").map { try PublicTrust.parse($0, key: "publicTrust", baseDirectory: baseDirectory) },
            peerPublicUrl: try reader.string("peerPublicUrl"),
            peerPublicTrust: try reader.string("peerPublicTrust").map {
                try PublicTrust.parse($0, key: "peerPublicTrust", baseDirectory: baseDirectory)
            },
            trustedProxies: try parseTrustedProxies(&reader),
            clusterSecret: try reader.string("clusterSecret"),
            heartbeatMs: try reader.integer("heartbeatMs", in: 10...60_000) ?? 100,
            failoverTimeoutMs: try reader.integer("failoverTimeoutMs", in: 50...600_000) ?? 1000,
            degradeAfterMs: try reader.integer("degradeAfterMs", in: 0...3_600_000) ?? 5000,
            replication: replication,
            logCheckpointRecords: try reader.integer("logCheckpointRecords", in: 0...1_000_000_000) ?? 100_000,
            logRetainedRecords: try reader.integer("logRetainedRecords", in: 0...1_000_000_000) ?? 100_000,
            trustedIssuers: (try reader.stringArray("trustedIssuers") ?? []).map { resolve($0, against: baseDirectory) },
            smtp: try parseSMTP(&reader, baseDirectory: baseDirectory),
            alerts: try parseAlerts(&reader),
            peerFingerprint: try parsePeerFingerprint(&reader),
            peerCaFile: try reader.string("peerCaFile").map { resolve($0, against: baseDirectory) },
            witness: try parseWitness(&reader, baseDirectory: baseDirectory),
            connections: try parseConnections(&reader),
            logFormat: try LogFormat.parse(&reader)
        )
        try reader.rejectUnknownKeys()
        try config.validate()
        try config.rejectPlaceholders()
        return config
    }

    /// Cross-field rules, checked together after the types are known.
    func validate() throws {
        switch serverMode {
        case .mainStandby:
            guard servers.count == 2 else {
                throw ConfigError(key: "servers", reason: "main_standby mode needs exactly two entries (\"self\" and the other node's URL), found \(servers.count)")
            }
            guard servers.filter({ $0 == "self" }).count == 1 else {
                throw ConfigError(key: "servers", reason: "main_standby mode needs exactly one \"self\" entry")
            }
            guard let secret = clusterSecret, secret.count >= Self.clusterSecretLengthMin else {
                throw ConfigError(key: "clusterSecret", reason: "main_standby mode needs a shared secret of at least \(Self.clusterSecretLengthMin) characters, the same on both nodes")
            }
        case .standalone:
            guard servers == ["self"] else {
                throw ConfigError(key: "servers", reason: "standalone mode takes [\"self\"] or no servers list; two entries mean main_standby")
            }
        }
        for entry in servers where entry != "self" {
            guard let url = URLComponents(string: entry), let scheme = url.scheme, url.host?.isEmpty == false else {
                throw ConfigError(key: "servers", reason: "\"\(entry)\" is not a URL like https://standby.example.com:48080/dls/")
            }
            guard scheme == "https" || (scheme == "http" && tls == .off) else {
                throw ConfigError(key: "servers", reason: "\"\(entry)\" must use https (http only when \"tls\" is false)")
            }
        }
        if let publicUrl {
            guard let url = URLComponents(string: publicUrl), url.scheme != nil, url.host?.isEmpty == false else {
                throw ConfigError(key: "publicUrl", reason: "\"\(publicUrl)\" is not a URL like https://www.example.com:48080/dls/")
            }
        }
        if publicTrust != nil, publicUrl == nil {
            throw ConfigError(key: "publicTrust", reason: "says how clients verify publicUrl, which is not set")
        }
        if let peerPublicUrl {
            guard serverMode == .mainStandby else {
                throw ConfigError(key: "peerPublicUrl", reason: "is the other node's URL in a pair (main_standby mode)")
            }
            guard let url = URLComponents(string: peerPublicUrl), ["http", "https"].contains(url.scheme ?? ""), url.host?.isEmpty == false else {
                throw ConfigError(key: "peerPublicUrl", reason: "\"\(peerPublicUrl)\" is not a URL like https://standby.example.com/dls/")
            }
        }
        if peerPublicTrust != nil, peerPublicUrl == nil {
            throw ConfigError(key: "peerPublicTrust", reason: "says how clients verify peerPublicUrl, which is not set")
        }
        if peerFingerprint != nil, peerCaFile != nil {
            throw ConfigError(key: "peerCaFile", reason: "and peerFingerprint both say how to trust the peer; keep one")
        }
        if witness != nil, serverMode != .mainStandby {
            throw ConfigError(key: "witness", reason: "is for a pair (main_standby mode); a standalone node has no failover to decide")
        }
        guard failoverTimeoutMs > 3 * heartbeatMs else {
            throw ConfigError(key: "failoverTimeoutMs", reason: "must be greater than 3 × heartbeatMs (\(failoverTimeoutMs) ≤ 3 × \(heartbeatMs)), or one late heartbeat would cause a failover")
        }
    }

    // MARK: Parts

    static func parseListen(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ConfigError(key: "listen", reason: "must be HOST:PORT like 0.0.0.0:48080, not \"\(text)\"")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else {
            throw ConfigError(key: "listen", reason: "must be HOST:PORT like 0.0.0.0:48080, not \"\(text)\"")
        }
        return (host, port)
    }

    static func parseTLS(_ reader: inout JSONObjectReader, baseDirectory: String) throws -> TLSSetting {
        guard let value = reader.take("tls") else { return .selfSigned }
        if let flag = value as? NSNumber, JSONObjectReader.isBoolean(flag) {
            return flag.boolValue ? .selfSigned : .off
        }
        guard let object = value as? [String: Any] else {
            throw ConfigError(key: "tls", reason: "must be false or an object {\"certificate\", \"key\"}")
        }
        var tlsReader = JSONObjectReader(object, path: "tls")
        let certificate = try tlsReader.string("certificate")
        let key = try tlsReader.string("key")
        try tlsReader.rejectUnknownKeys()
        switch (certificate, key) {
        case (nil, nil): return .selfSigned
        case let (certificate?, key?):
            return .files(certificate: resolve(certificate, against: baseDirectory), key: resolve(key, against: baseDirectory))
        case (nil, _): throw ConfigError(key: "tls.certificate", reason: "is needed together with tls.key")
        case (_, nil): throw ConfigError(key: "tls.key", reason: "is needed together with tls.certificate")
        }
    }

    private static func parseTrustedProxies(_ reader: inout JSONObjectReader) throws -> TrustedProxies {
        do {
            return try TrustedProxies(parsing: try reader.stringArray("trustedProxies") ?? [])
        } catch let error as TrustedProxies.BadEntry {
            throw ConfigError(key: "trustedProxies", reason: "\"\(error.entry)\" is no IPv4 or IPv6 address or network like 10.0.0.0/8, 2001:db8::/32 or 127.0.0.1 (host bits after the prefix must be 0)")
        }
    }

    private static func parsePeerFingerprint(_ reader: inout JSONObjectReader) throws -> [UInt8]? {
        guard let text = try reader.string("peerFingerprint") else { return nil }
        guard let bytes = SelfSignedCertificate.parseFingerprint(text) else {
            throw ConfigError(key: "peerFingerprint", reason: "must be the peer's SHA-256 certificate fingerprint: 64 hex digits, colons allowed")
        }
        return bytes
    }

    private static func parseWitness(_ reader: inout JSONObjectReader, baseDirectory: String) throws -> Witness? {
        guard let value = reader.take("witness") else { return nil }
        guard let object = value as? [String: Any] else {
            throw ConfigError(key: "witness", reason: "must be an object {\"url\", \"fingerprint\"} or {\"url\", \"caFile\"}")
        }
        var witnessReader = JSONObjectReader(object, path: "witness")
        if let endpoints = try witnessReader.stringArray("etcd") {
            return try parseEtcdWitness(&witnessReader, endpoints: endpoints, baseDirectory: baseDirectory)
        }
        guard let url = try witnessReader.string("url") else {
            throw ConfigError(key: "witness.url", reason: "is required, like https://witness.example.com:48090/ (or give \"etcd\": [URL…] and \"keyPrefix\")")
        }
        guard let components = URLComponents(string: url), components.scheme == "https", components.host?.isEmpty == false else {
            throw ConfigError(key: "witness.url", reason: "\"\(url)\" is not an https URL like https://witness.example.com:48090/")
        }
        let fingerprint = try witnessReader.string("fingerprint")
        let caFile = try witnessReader.string("caFile").map { resolve($0, against: baseDirectory) }
        try witnessReader.rejectUnknownKeys()
        switch (fingerprint, caFile) {
        case let (text?, nil):
            guard let bytes = SelfSignedCertificate.parseFingerprint(text) else {
                throw ConfigError(key: "witness.fingerprint", reason: "must be the witness's SHA-256 certificate fingerprint (64 hex digits, colons allowed), as `lts witness` logs it")
            }
            return .lts(url: url, trust: .pinnedSHA256(bytes))
        case let (nil, path?):
            return .lts(url: url, trust: .caFile(path))
        case (nil, nil):
            return .lts(url: url, trust: .system)
        case (_?, _?):
            throw ConfigError(key: "witness.caFile", reason: "and witness.fingerprint both say how to trust the witness; keep one")
        }
    }

    private static func parseEtcdWitness(_ reader: inout JSONObjectReader, endpoints: [String], baseDirectory: String) throws -> Witness {
        guard !endpoints.isEmpty else { throw ConfigError(key: "witness.etcd", reason: "must name at least one etcd endpoint, like http://etcd1:2379") }
        for endpoint in endpoints {
            guard let url = URLComponents(string: endpoint), ["http", "https"].contains(url.scheme ?? ""), url.host?.isEmpty == false,
                  url.path.isEmpty || url.path == "/" else {
                throw ConfigError(key: "witness.etcd", reason: "\"\(endpoint)\" is not an etcd client URL like http://etcd1:2379")
            }
        }
        guard let prefix = try reader.string("keyPrefix"), prefix.hasPrefix("/"), prefix.count > 1, !prefix.hasSuffix("/") else {
            throw ConfigError(key: "witness.keyPrefix", reason: "is required with etcd: the keys of this pair, like /lts/site-a-b (a leading /, no trailing /)")
        }
        let caFile = try reader.string("caFile").map { resolve($0, against: baseDirectory) }
        try reader.rejectUnknownKeys()
        return .etcd(endpoints: endpoints, keyPrefix: prefix, trust: caFile.map { .caFile($0) } ?? .system)
    }

    /// How to verify the peer's certificate.
    var peerTrust: TLSTrust {
        if let peerFingerprint { return .pinnedSHA256(peerFingerprint) }
        if let peerCaFile { return .caFile(peerCaFile) }
        return .system
    }

    private static func parseConnections(_ reader: inout JSONObjectReader) throws -> ConnectionCaps {
        guard let value = reader.take("connections") else { return ConnectionCaps() }
        guard let object = value as? [String: Any] else {
            throw ConfigError(key: "connections", reason: "must be an object {\"max\", \"perAddress\", \"handshakesMax\", \"handshakesPerAddress\"}")
        }
        var capsReader = JSONObjectReader(object, path: "connections")
        let caps = ConnectionCaps(max: try capsReader.integer("max", in: 1...1_000_000),
                                  perAddress: try capsReader.integer("perAddress", in: 1...1_000_000),
                                  handshakesMax: try capsReader.integer("handshakesMax", in: 1...1_000_000),
                                  handshakesPerAddress: try capsReader.integer("handshakesPerAddress", in: 1...1_000_000))
        try capsReader.rejectUnknownKeys()
        return caps
    }

    private static func parseAlerts(_ reader: inout JSONObjectReader) throws -> Alerts? {
        guard let value = reader.take("alerts") else { return nil }
        guard let object = value as? [String: Any] else {
            throw ConfigError(key: "alerts", reason: "must be an object {\"recipients\", \"checkMinutes\", \"standbyLagMinutes\"}")
        }
        var alertsReader = JSONObjectReader(object, path: "alerts")
        let recipients = try alertsReader.stringArray("recipients") ?? []
        for address in recipients {
            if let problem = MailAddress.problem(address) {
                throw ConfigError(key: "alerts.recipients", reason: "\"\(address)\" \(problem)")
            }
        }
        let minimumMinutes = Double(AlertSettings.checkMillisecondsMin) / 60_000
        let minutes = try alertsReader.number("checkMinutes", in: minimumMinutes...10_080)
        let alerts = Alerts(recipients: recipients,
                            checkMilliseconds: minutes.map { Int64(($0 * 60_000).rounded()) } ?? AlertSettings.defaultCheckMilliseconds,
                            standbyLagMinutes: Int64(try alertsReader.integer("standbyLagMinutes", in: 1...10_080)
                                                     ?? Int(AlertSettings.defaultStandbyLagMinutes)))
        try alertsReader.rejectUnknownKeys()
        return alerts
    }

    private static func parseSMTP(_ reader: inout JSONObjectReader, baseDirectory: String) throws -> SMTP? {
        guard let value = reader.take("smtp") else { return nil }
        guard let object = value as? [String: Any] else {
            throw ConfigError(key: "smtp", reason: "must be an object {\"host\", \"port\", \"security\", \"username\", \"password\", \"from\", \"caFile\", \"timeoutSeconds\"}")
        }
        var smtpReader = JSONObjectReader(object, path: "smtp")
        guard let host = try smtpReader.string("host") else { throw ConfigError(key: "smtp.host", reason: "is required") }
        let security = try smtpReader.string("security") ?? "starttls"
        guard ["starttls", "tls", "none"].contains(security) else {
            throw ConfigError(key: "smtp.security", reason: "must be \"starttls\", \"tls\" or \"none\", not \"\(security)\"")
        }
        let smtp = SMTP(host: host,
                        port: try smtpReader.integer("port", in: 1...65535) ?? (security == "tls" ? 465 : 587),
                        security: security,
                        username: try smtpReader.string("username"),
                        password: try smtpReader.string("password"),
                        from: try smtpReader.string("from"),
                        caFile: try smtpReader.string("caFile").map { resolve($0, against: baseDirectory) },
                        timeoutSeconds: try smtpReader.integer("timeoutSeconds", in: 1...600) ?? 15)
        try smtpReader.rejectUnknownKeys()
        return smtp
    }

    static func resolve(_ path: String, against base: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: base).appendingPathComponent(path).standardizedFileURL.path
    }
}
