import Foundation
import Platform
import Transport

/// A real single-member etcd (Debian's `etcd-server`) on loopback, with its
/// own temporary data dir and free ports, for the etcd witness's tests.
///
/// Invariant: `init` returns once etcd answers its health check; the
/// process is killed and its data removed when the object goes away.
public final class EtcdProcess {
    public static let binary = "/usr/bin/etcd"
    public let clientURL: String
    private let directory: String
    private let process: SpawnedProcess

    /// Why etcd cannot run here, or nil when it can.
    public static var unavailableReason: String? {
        FileManager.default.isExecutableFile(atPath: binary) ? nil : "etcd is not installed (Debian package etcd-server; make test installs it)"
    }

    public init() throws {
        directory = NSTemporaryDirectory() + "lts-etcd-\(UUID().uuidString)"
        let clientPort = try NodePair.freePort(), peerPort = try NodePair.freePort()
        clientURL = "http://127.0.0.1:\(clientPort)"
        let peerURL = "http://127.0.0.1:\(peerPort)"
        process = try SpawnedProcess([Self.binary, "--name", "lts-test", "--data-dir", directory,
                                      "--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
                                      "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
                                      "--initial-cluster", "lts-test=\(peerURL)"])
        let client = HTTPClient(timeoutMs: 1_000)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let health = try? client.send("GET", clientURL + "/health"), health.json?["health"] as? String == "true" { return }
            usleep(100_000) // Polls a process that gives no other sign of readiness.
        }
        throw TransportError("etcd did not become healthy at \(clientURL)")
    }

    deinit {
        process.signal(SIGKILL)
        _ = process.wait()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
