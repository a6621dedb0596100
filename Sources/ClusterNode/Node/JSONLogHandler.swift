import Foundation
import Logging

/// A swift-log handler writing one JSON object per line to standard error
/// (or another descriptor), for log collectors (`"logFormat": "json"`):
/// `{"at":"2026-12-07T07:30:00.123Z","level":"info","label":"lts","message":"…","meta":{"peer":"…"}}`.
///
/// Invariant: the keys are always `at` (UTC, ISO 8601 with milliseconds),
/// `level`, `label`, `message`, in that order, then `meta` only when there is
/// metadata: the handler's, the provider's and the call's (the call's wins
/// on a shared key), nested dictionaries flattened to dotted keys, arrays as
/// arrays of strings, every value a string. A line goes out in one `write`
/// under a process-wide lock, so lines of different threads never mix.
public struct JSONLogHandler: LogHandler {
    private static let lock = NSLock()

    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: Int32

    public init(label: String, output: Int32 = STDERR_FILENO, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.output = output
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, call in call } }
        if let own = event.metadata { merged.merge(own) { _, call in call } }
        var line = "{\"at\":\(JSONText.quote(Self.timestamp())),\"level\":\(JSONText.quote(event.level.rawValue))"
        line += ",\"label\":\(JSONText.quote(label)),\"message\":\(JSONText.quote(event.message.description))"
        if !merged.isEmpty {
            var flat: [(String, String)] = []
            Self.flatten(merged, prefix: "", into: &flat)
            line += ",\"meta\":{" + flat.sorted { $0.0 < $1.0 }.map { "\(JSONText.quote($0.0)):\($0.1)" }.joined(separator: ",") + "}"
        }
        line += "}\n"
        Self.lock.lock()
        defer { Self.lock.unlock() }
        var bytes = Array(line.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }

    /// Metadata as (dotted key, JSON value) pairs.
    private static func flatten(_ metadata: Logger.Metadata, prefix: String, into flat: inout [(String, String)]) {
        for (key, value) in metadata {
            switch value {
            case .string(let text): flat.append((prefix + key, JSONText.quote(text)))
            case .stringConvertible(let item): flat.append((prefix + key, JSONText.quote(item.description)))
            case .array(let items): flat.append((prefix + key, "[" + items.map { JSONText.quote($0.description) }.joined(separator: ",") + "]"))
            case .dictionary(let nested): flatten(nested, prefix: prefix + key + ".", into: &flat)
            }
        }
    }

    /// Now, as `2026-12-07T07:30:00.123Z`.
    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, Int32(now.tv_nsec / 1_000_000))
    }
}
