import Foundation
import Platform
import Transport

/// A real SMTP server for tests: `tests/smtp/smtp_server.py` (aiosmtpd from
/// PyPI, in the venv `tests/smtp/venv.sh` keeps) on 127.0.0.1 with a fresh
/// self-signed certificate for 127.0.0.1.
///
/// Invariant: once `init` returns the server listens on `port`; every
/// message it accepted is in `received` as soon as the server printed it;
/// `stop()` (or deinit) ends the server and removes its files.
public final class SMTPTestServer {
    /// One message the server accepted, as it printed it.
    public struct ReceivedMail: Decodable, Equatable {
        public let mailFrom: String
        public let rcptTos: [String]
        /// Decoded from RFC 2047.
        public let subject: String
        /// Decoded, with LF line ends.
        public let body: String
        /// The user that logged in with AUTH, nil without AUTH.
        public let authUser: String?
        /// Whether the message came over TLS (implicit or STARTTLS).
        public let tls: Bool
    }

    /// How long the server may take to listen once its venv exists.
    public static let startTimeoutSeconds = 30.0

    public let port: Int
    public let security: SMTPSecurity
    /// The server's certificate (PEM), the CA file a client trusts it by.
    public let caFile: String
    /// A temporary directory with the certificate and key.
    public let directory: String
    private let process: SpawnedProcess
    private let output = LogCollector()
    private let errors = LogCollector()

    /// The repository root, found from this file's path.
    public static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// Makes the venv (first use: from PyPI), a certificate, and starts the server.
    /// - Parameters:
    ///   - security: `.starttls` (AUTH only after TLS), `.tls` (implicit) or `.none`.
    ///   - auth: require AUTH with this user and password (wrong ones get 535).
    ///   - hang: accept connections and never answer.
    ///   - failRecipients: answer 550 to every RCPT TO.
    public init(security: SMTPSecurity = .starttls, auth: (user: String, password: String)? = nil, hang: Bool = false,
                failRecipients: Bool = false) throws {
        let root = Self.repositoryRoot
        let python = try SpawnedProcess.output(of: [root + "/tests/smtp/venv.sh"]).trimmingCharacters(in: .whitespacesAndNewlines)
        directory = NSTemporaryDirectory() + "lts-smtp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        caFile = directory + "/cert.pem"
        let keyFile = directory + "/key.pem"
        try SelfSignedCertificate.ensure(certificatePath: caFile, keyPath: keyFile, hostNames: ["127.0.0.1"])
        var arguments = [python, root + "/tests/smtp/smtp_server.py", "--port", "0", "--security", security.rawValue,
                         "--cert", caFile, "--key", keyFile]
        if let auth { arguments += ["--auth", "\(auth.user):\(auth.password)"] }
        if hang { arguments.append("--hang") }
        if failRecipients { arguments.append("--fail-rcpt") }
        self.security = security
        process = try SpawnedProcess(arguments)
        output.attach(process.standardOutput)
        errors.attach(process.standardError)
        guard let ready = output.waitForLine(containing: "READY ", timeoutSeconds: Self.startTimeoutSeconds),
              let port = Int(ready.dropFirst("READY ".count)) else {
            process.signal(SIGKILL)
            process.wait()
            try? FileManager.default.removeItem(atPath: directory)
            throw TransportError("the test SMTP server did not start; it said:\n\(output.text)\n\(errors.text)")
        }
        self.port = port
    }

    deinit { stop() }

    /// Settings for a client of this server, trusting its certificate.
    public func settings(username: String? = nil, password: String? = nil, from: String = "alerts@lts.example",
                         caFile: String? = nil, timeoutMs: Int = 15_000, connectTimeoutMs: Int = 5_000) throws -> SMTPSettings {
        try SMTPSettings(host: "127.0.0.1", port: port, security: security, username: username, password: password, from: from,
                         caFile: caFile ?? self.caFile, timeoutMs: timeoutMs, connectTimeoutMs: connectTimeoutMs)
    }

    /// Every message received so far, in order.
    public var received: [ReceivedMail] {
        output.lines.filter(Self.isMessage).map(Self.decode)
    }

    /// Blocks until the server received at least `count` messages.
    /// - Returns: all messages received so far.
    /// - Throws: when fewer arrived within `timeout` seconds.
    public func waitForMessages(count: Int, timeout: TimeInterval) throws -> [ReceivedMail] {
        guard let lines = output.waitForLines(count: count, where: Self.isMessage, timeoutSeconds: timeout) else {
            throw TransportError("the test SMTP server received \(received.count) of \(count) messages in \(timeout) s; it said:\n\(errors.text)")
        }
        return lines.map(Self.decode)
    }

    /// Blocks until a hanging server (`hang: true`) accepted `count` connections.
    /// - Throws: when fewer came within `timeout` seconds.
    public func waitForConnections(count: Int, timeout: TimeInterval) throws {
        guard output.waitForLines(count: count, where: { $0 == "CONNECTED" }, timeoutSeconds: timeout) != nil else {
            throw TransportError("the hanging test SMTP server saw fewer than \(count) connections in \(timeout) s")
        }
    }

    /// Sends SIGTERM and waits for the server to exit; removes its files.
    /// - Returns: its wait status (0 for a clean exit).
    @discardableResult
    public func stop() -> Int32 {
        process.signal(SIGTERM)
        let status = process.wait()
        try? FileManager.default.removeItem(atPath: directory)
        return status
    }

    /// Everything the server wrote to standard error so far.
    public var errorText: String { errors.text }

    private static func isMessage(_ line: String) -> Bool { line.hasPrefix("{") }

    /// The server prints only JSON it made itself; a line that does not
    /// decode is a bug in the server script.
    private static func decode(_ line: String) -> ReceivedMail {
        do {
            return try JSONDecoder().decode(ReceivedMail.self, from: Data(line.utf8))
        } catch {
            preconditionFailure("the test SMTP server printed \(line): \(error)")
        }
    }
}
