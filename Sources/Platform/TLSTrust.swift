/// How a TLS client decides to trust a server.
public enum TLSTrust: Equatable {
    /// The system's CA store and the host name.
    case system
    /// A CA (or self-signed certificate) file and the host name.
    case caFile(String)
    /// The SHA-256 of the server's leaf certificate (for self-signed nodes).
    case pinnedSHA256([UInt8])
    /// No verification. Only ever set by an explicit `--insecure` flag.
    case insecure
}
