import Foundation

/// The validated configuration of `lts witness`:
/// `{"listen": "HOST:PORT", "dataDir": DIR, "clusterSecret": S, "tls": …, "logFormat": …}`
/// (TLS as for a node: a self-signed certificate in the data dir unless
/// `tls.certificate` and `tls.key` are given).
///
/// Invariant: a value passed every check of `parse` (known keys only, a
/// secret of a pair's length, TLS on); paths are absolute.
public struct WitnessConfig: Equatable {
    static let defaultPort = 48090

    var listenHost: String
    var listenPort: Int
    var dataDir: String
    var clusterSecret: String
    var tls: Config.TLSSetting
    /// How the process writes its log, as for a node.
    public var logFormat: LogFormat = .text

    /// Reads and validates a witness configuration file.
    public static func load(path: String) throws -> WitnessConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(key: "", reason: "cannot read \(path)")
        }
        return try parse(data, baseDirectory: URL(fileURLWithPath: path).deletingLastPathComponent().path)
    }

    static func parse(_ data: Data, baseDirectory: String) throws -> WitnessConfig {
        do {
            var reader = try JSONObjectReader.parse(data)
            let (host, port) = try Config.parseListen(try reader.string("listen") ?? "0.0.0.0:\(defaultPort)")
            let dataDir = Config.resolve(try reader.string("dataDir") ?? "lts-witness", against: baseDirectory)
            guard let secret = try reader.string("clusterSecret"), secret.count >= Config.clusterSecretLengthMin else {
                throw ConfigError(key: "clusterSecret", reason: "must be the pair's shared secret (at least \(Config.clusterSecretLengthMin) characters), the same as in both nodes' configs")
            }
            let tls = try Config.parseTLS(&reader, baseDirectory: baseDirectory)
            guard tls != .off else {
                throw ConfigError(key: "tls", reason: "cannot be false for a witness: the nodes pin its certificate")
            }
            let logFormat = try LogFormat.parse(&reader)
            try reader.rejectUnknownKeys()
            return WitnessConfig(listenHost: host, listenPort: port, dataDir: dataDir, clusterSecret: secret, tls: tls, logFormat: logFormat)
        } catch let error as JSONFieldError {
            if error.key.isEmpty { throw ConfigError(key: "", reason: "the file is not a JSON object") }
            throw ConfigError(key: error.key, reason: error.reason == "is not a known field" ? "is not a known setting of a witness (listen, dataDir, clusterSecret, tls, logFormat)" : error.reason)
        }
    }
}
