/// How the connection to the mail server is protected.
public enum SMTPSecurity: String, Equatable, CaseIterable {
    /// Plain TCP, then STARTTLS before anything else; a server without
    /// STARTTLS is an error, never a fall-back to clear text (port 587).
    case starttls
    /// TLS from the first byte (implicit TLS, port 465).
    case tls
    /// Plain TCP throughout, for a relay on the same host or network; never
    /// with a password.
    case none
}

/// Where and how usage alerts are mailed.
///
/// Invariant: a value exists only if it passed the checks in `init`: a
/// host, a port in 1...65535, a plausible `from` address, a user name and
/// password given together and never with `security == .none`, positive
/// time limits with `connectTimeoutMs <= timeoutMs`.
public struct SMTPSettings: Equatable {
    /// The usual port for each kind of security (submission, submissions, SMTP).
    public static func defaultPort(for security: SMTPSecurity) -> Int {
        switch security {
        case .starttls: return 587
        case .tls: return 465
        case .none: return 25
        }
    }

    public let host: String
    public let port: Int
    public let security: SMTPSecurity
    /// Log in with AUTH when set (together with `password`).
    public let username: String?
    public let password: String?
    /// The envelope sender (MAIL FROM), where bounces go.
    public let from: String
    /// A PEM file of CAs to trust instead of the system's.
    public let caFile: String?
    /// Bounds one whole send.
    public let timeoutMs: Int
    /// Bounds connecting (TCP and, with `.tls`, the handshake).
    public let connectTimeoutMs: Int

    /// Checks the settings together.
    /// - Throws: `SMTPError` with cause `.invalidSettings`, saying which setting is wrong.
    public init(host: String, port: Int? = nil, security: SMTPSecurity = .starttls, username: String? = nil,
                password: String? = nil, from: String, caFile: String? = nil, timeoutMs: Int = 15_000,
                connectTimeoutMs: Int = 5_000) throws {
        self.host = host
        self.port = port ?? Self.defaultPort(for: security)
        self.security = security
        self.username = username
        self.password = password
        self.from = from
        self.caFile = caFile
        self.timeoutMs = timeoutMs
        self.connectTimeoutMs = connectTimeoutMs
        if let problem = self.problem { throw SMTPError(.invalidSettings, "The mail settings for \(server) are unusable: \(problem).") }
    }

    /// `host:port`, with brackets around an IPv6 address.
    public var server: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    private var problem: String? {
        if host.isEmpty { return "the host is empty" }
        if !host.utf8.allSatisfy(Self.isHostByte) {
            return "the host \"\(host)\" is not a host name or an IP address (IPv6 without brackets)"
        }
        if !(1...65535).contains(port) { return "the port \(port) is outside 1...65535" }
        if let problem = MailAddress.problem(from) { return "the sender address \"\(from)\" \(problem)" }
        if (username == nil) != (password == nil) { return "a user name and a password go together" }
        if password != nil, security == .none { return "a password with security \"none\" would send the password in clear" }
        if let username, username.isEmpty { return "the user name is empty" }
        if timeoutMs <= 0 || connectTimeoutMs <= 0 { return "the time limits must be positive" }
        if connectTimeoutMs > timeoutMs {
            return "the connect time-out (\(connectTimeoutMs) ms) is longer than the whole time-out (\(timeoutMs) ms)"
        }
        return nil
    }

    /// Letters, digits, '.', '-', '_' and ':' (IPv6): nothing that could
    /// change the meaning of the smtp:// URL the host goes into.
    private static func isHostByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: ":"):
            return true
        default:
            return false
        }
    }
}
