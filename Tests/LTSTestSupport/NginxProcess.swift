import Foundation
import Platform
import Transport

/// A real nginx (Debian's `nginx-light`) in front of one node, run by the
/// test's user from its own temporary directory with the shipped site
/// configuration, `deploy/nginx/lts.conf`, whose example values are replaced
/// by this test's ports and files.
///
/// Invariant: `init` returns once nginx answers the node's health check
/// through the proxy; nginx (master and worker) is stopped when the object
/// goes away.
public final class NginxProcess {
    public static let binary = "/usr/sbin/nginx"
    /// The shipped site configuration.
    public static let siteTemplate = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy/nginx/lts.conf").path

    public let directory: String
    public let port: Int
    /// The certificate nginx serves, and its SHA-256.
    public let certificatePath: String
    public let fingerprint: [UInt8]
    private let process: SpawnedProcess
    private let errors = LogCollector()

    /// Why nginx cannot run here, or nil when it can.
    public static var unavailableReason: String? {
        FileManager.default.isExecutableFile(atPath: binary) ? nil : "nginx is not installed (Debian package nginx-light; make test installs it)"
    }

    /// Makes nginx's certificate (for `localhost`) in `directory`, before
    /// the node starts, so that the node can pin it (`publicTrust`).
    /// - Returns: the certificate's path.
    public static func makeCertificate(in directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try SelfSignedCertificate.ensure(certificatePath: directory + "/site.crt", keyPath: directory + "/site.key", hostNames: ["localhost"])
        return directory + "/site.crt"
    }

    /// Starts nginx on 127.0.0.1:`port` in front of the node at 127.0.0.1:`nodePort`.
    /// - Parameters:
    ///   - directory: where `makeCertificate` wrote nginx's certificate;
    ///     nginx's configuration, logs and temporary files go there too.
    ///   - nodeCertificate: the node's certificate, which nginx verifies.
    public init(directory: String, port: Int, nodePort: Int, nodeCertificate: String) throws {
        self.directory = directory
        self.port = port
        certificatePath = directory + "/site.crt"
        guard let fingerprint = SelfSignedCertificate.parseFingerprint(try SelfSignedCertificate.fingerprint(certificatePath: certificatePath)) else {
            throw TransportError("no certificate in \(certificatePath); call makeCertificate first")
        }
        self.fingerprint = fingerprint
        let site = try Self.site(template: try String(contentsOfFile: Self.siteTemplate, encoding: .utf8), replacing: [
            "server 127.0.0.1:48080;": "server 127.0.0.1:\(nodePort);",
            "listen 443 ssl;": "listen 127.0.0.1:\(port) ssl;",
            "server_name lts-a.example.com;": "server_name localhost;",
            "/etc/nginx/tls/lts-a.example.com.crt": certificatePath,
            "/etc/nginx/tls/lts-a.example.com.key": directory + "/site.key",
            "/var/lib/lts/tls/node.crt": nodeCertificate,
        ])
        try Data(site.utf8).write(to: URL(fileURLWithPath: directory + "/lts.conf"))
        // What Debian's /etc/nginx/nginx.conf holds around a site, with every
        // file nginx writes in this directory, so that it runs as any user.
        let temporaryFiles = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
            .map { "    \($0)_temp_path \(directory)/\($0 == "client_body" ? "body" : $0);" }.joined(separator: "\n")
        let main = """
            worker_processes 1;
            error_log \(directory)/error.log;
            pid \(directory)/nginx.pid;
            events { worker_connections 128; }
            http {
                access_log \(directory)/access.log;
            \(temporaryFiles)
                include \(directory)/lts.conf;
            }

            """
        try Data(main.utf8).write(to: URL(fileURLWithPath: directory + "/nginx.conf"))
        process = try SpawnedProcess([Self.binary, "-p", directory, "-c", directory + "/nginx.conf", "-e", directory + "/error.log",
                                      "-g", "daemon off;"])
        errors.attach(process.standardError)
        let client = HTTPClient(trust: .pinnedSHA256(fingerprint), timeoutMs: 2_000)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, process.isRunning {
            if let health = try? client.send("GET", url("/api/health")), health.status == 200 { return }
            usleep(50_000) // Polls a process that gives no other sign of readiness.
        }
        throw TransportError("nginx did not pass the node's health check through: \(errors.text) \(log)")
    }

    deinit {
        // SIGTERM, not SIGKILL: the master then stops its worker, which a
        // killed master would leave behind, still listening.
        process.signal(SIGTERM)
        _ = process.wait()
    }

    /// The site configuration: `template` with each key replaced by its
    /// value; a key the template lacks is an error, so that the test follows
    /// the shipped file.
    static func site(template: String, replacing: [String: String]) throws -> String {
        var site = template
        for (old, new) in replacing {
            guard site.contains(old) else { throw TransportError("\(siteTemplate) no longer holds \"\(old)\"") }
            site = site.replacingOccurrences(of: old, with: new)
        }
        return site
    }

    /// `https://localhost:PORT/PREFIX/PATH` through nginx.
    public func url(_ path: String, prefix: String = "dls") -> String {
        "https://localhost:\(port)/\(prefix)\(path)"
    }

    /// A client that trusts nginx's certificate.
    public var client: HTTPClient { HTTPClient(trust: .pinnedSHA256(fingerprint)) }

    /// nginx's error log so far.
    public var log: String { (try? String(contentsOfFile: directory + "/error.log", encoding: .utf8)) ?? "" }
}
