import Foundation
import Platform

/// A configuration file as an editable JSON object: what pairing rewrites.
/// Keys it does not touch keep their values, so a hand-written file keeps
/// its settings.
///
/// Invariant: `write` writes only what `Config.parse` accepts, atomically,
/// with the owner and group the file had and its mode without access for
/// others (a new file: 0600), since the file holds the cluster secret.
struct ConfigFile {
    let path: String
    var object: [String: Any]

    /// The file at `path`, or an empty object when there is none yet.
    static func read(path: String) throws -> ConfigFile {
        guard FileManager.default.fileExists(atPath: path) else { return ConfigFile(path: path, object: [:]) }
        guard let data = FileManager.default.contents(atPath: path) else { throw PairingError("cannot read \(path)") }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw PairingError("\(path) is not a JSON object; fix or remove it first")
        }
        return ConfigFile(path: path, object: object)
    }

    /// Where the commands read and write when `--config` is not given: as
    /// `lts serve` looks, else `lts.json` here.
    static func defaultPath(among candidates: [String]) -> String {
        candidates.first { FileManager.default.fileExists(atPath: $0) } ?? "lts.json"
    }

    var baseDirectory: String { URL(fileURLWithPath: path).deletingLastPathComponent().path }

    /// True when the file makes this node a pair's standby (`"self"` second).
    var isStandby: Bool { (object["servers"] as? [String])?.firstIndex(of: "self") == 1 }

    /// The configuration the object makes.
    /// - Throws: `ConfigError` as `lts serve` would report it.
    func validated() throws -> Config {
        var config = try Config.parse(try bytes(), baseDirectory: baseDirectory)
        config.sourcePath = path
        return config
    }

    /// Writes the object (checked first) in place of the file.
    @discardableResult
    func write() throws -> Config {
        let config = try validated()
        try FileManager.default.createDirectory(atPath: baseDirectory, withIntermediateDirectories: true)
        var status = stat()
        if stat(path, &status) == 0 {
            try DurableFile.write(try bytes() + Data("\n".utf8), to: path, mode: (status.st_mode & 0o660) | 0o600,
                                  owner: (status.st_uid, status.st_gid))
        } else {
            try DurableFile.write(try bytes() + Data("\n".utf8), to: path, mode: 0o600)
        }
        return config
    }

    private func bytes() throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }
}
