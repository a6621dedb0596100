import Foundation
import Logging
import Platform
import Transport

/// Keeps a running server's TLS certificate current: every hour and on
/// SIGHUP it renews a self-signed certificate that is due
/// (`ServerCertificate.renewIfDue`) and, when the certificate file on disk
/// is not the one served (renewed here, by `lts tls renew`, or replaced by
/// the operator), serves the file's from the next connection on.
///
/// Invariant: the server always has a certificate whose key matches; a file
/// that cannot be loaded is logged and the old certificate kept.
final class CertificateReloader {
    static let checkIntervalMs: UInt64 = 3_600_000

    private let files: (certificate: String, key: String)
    /// Whether the node made the certificate (and so renews it).
    private let selfSigned: Bool
    private let hostNames: [String]
    private let http2: Bool
    private let logger: Logger
    private let install: (TLSServerContext) -> Void
    private var served: String
    /// When the certificate served expires (Unix seconds), for the metrics.
    private(set) var servedNotAfter: Int64
    private var timer: LoopTimer?
    private var hangup: SignalWatcher?

    /// - Parameter install: hands the new context to the server.
    init?(loop: EventLoop, setting: Config.TLSSetting, dataDirectory: DataDirectory, hostNames: [String], http2: Bool,
          logger: Logger, install: @escaping (TLSServerContext) -> Void) {
        guard let files = ServerCertificate.files(for: setting, dataDir: dataDirectory.path),
              let served = try? SelfSignedCertificate.fingerprint(certificatePath: files.certificate),
              let (_, notAfter) = try? SelfSignedCertificate.keyAndExpiry(certificatePath: files.certificate) else { return nil }
        servedNotAfter = notAfter
        self.files = files
        selfSigned = setting == .selfSigned
        self.hostNames = hostNames
        self.http2 = http2
        self.logger = logger
        self.install = install
        self.served = served
        timer = LoopTimer(loop: loop, delayMs: Self.checkIntervalMs, repeatMs: Self.checkIntervalMs) { [weak self] in self?.check() }
        hangup = SignalWatcher(loop: loop, signal: SIGHUP) { [weak self] _ in
            self?.logger.info("SIGHUP: checking the TLS certificate")
            self?.check()
        }
    }

    func cancel() {
        timer?.cancel()
        hangup?.cancel()
    }

    private func check() {
        do {
            if selfSigned {
                try ServerCertificate.renewIfDue(certificatePath: files.certificate, keyPath: files.key, hostNames: hostNames,
                                                 nowSeconds: WallClock.nowSeconds(), logger: logger)
            }
            let onDisk = try SelfSignedCertificate.fingerprint(certificatePath: files.certificate)
            guard onDisk != served else { return }
            let (_, notAfter) = try SelfSignedCertificate.keyAndExpiry(certificatePath: files.certificate)
            install(try TLSServerContext(certificatePath: files.certificate, keyPath: files.key, http2: http2))
            servedNotAfter = notAfter
            logger.info("now serving the TLS certificate \(files.certificate), SHA-256 fingerprint \(onDisk) (was \(served))")
            served = onDisk
        } catch {
            logger.error("cannot renew or load the TLS certificate \(files.certificate), keeping the one served: \(error)")
        }
    }
}
