/// Why a configuration file was refused. The message names the key and the
/// reason, so an operator can fix the file without reading code.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    /// The key path, e.g. `servers` or `tls.certificate` ("" for the whole file).
    let key: String
    let reason: String

    public var description: String {
        key.isEmpty ? "configuration: \(reason)" : "configuration key \"\(key)\": \(reason)"
    }
}
