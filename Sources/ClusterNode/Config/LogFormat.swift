import Logging

/// How `lts serve` and `lts witness` write their log to standard error
/// (`"logFormat"` in either configuration).
///
/// Invariant: `text` is swift-log's own line format; `json` is one object per
/// line as `JSONLogHandler` documents it.
public enum LogFormat: String, Equatable, Sendable {
    case text
    case json

    /// The level a process logs from, whatever the format.
    static let level = Logger.Level.info

    /// Reads `"logFormat"` (absent: `text`); any other value is refused.
    static func parse(_ reader: inout JSONObjectReader) throws -> LogFormat {
        let text = try reader.string("logFormat") ?? LogFormat.text.rawValue
        guard let format = LogFormat(rawValue: text) else {
            throw ConfigError(key: "logFormat", reason: "must be \"text\" or \"json\", not \"\(text)\"")
        }
        return format
    }

    /// The handler for `LoggingSystem.bootstrap`.
    public func handler(label: String) -> LogHandler {
        switch self {
        case .text:
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Self.level
            return handler
        case .json:
            var handler = JSONLogHandler(label: label)
            handler.logLevel = Self.level
            return handler
        }
    }
}
