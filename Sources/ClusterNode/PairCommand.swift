import ArgumentParser
import Foundation
import Transport

/// `lts pair`: a demo main + standby pair on this machine, with a vendor
/// key, an admin password and the demo license imported, ready for drills.
///
/// Invariant: both nodes run as supervised child `lts serve` processes (one
/// that dies is started again); the command ends only after both have
/// stopped (Ctrl-C or SIGTERM stops them gracefully), and exits non-zero if
/// either could not start.
struct PairCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pair",
        abstract: "Run a demo main + standby pair on 127.0.0.1.",
        discussion: """
        The main listens on --port, the standby on --port + 1, with their data, configuration, \
        certificates, a demo vendor key, license file and admin password under --dir (kept between \
        runs). The admin password is set and the demo license imported on first start. A node that \
        dies (a failover drill kills one) is started again after a second. Ctrl-C stops both.
        """
    )

    /// How long a node may take to start listening.
    static let startTimeoutSeconds = 30.0

    @Option(name: .long, help: "The directory for both nodes, the vendor key and the demo license.")
    var dir = "lts-pair"

    @Option(name: .long, help: "The main's port; the standby takes the next one.")
    var port = 48080

    @Option(name: .long, help: "sync or async replication.")
    var replication = "sync"

    @Flag(name: .long, help: "Leave the admin password unset and the demo license unimported (the portal's first visit).")
    var noSetup = false

    func validate() throws {
        guard (1...65534).contains(port) else { throw ValidationError("--port must be 1 to 65534") }
        guard ["sync", "async"].contains(replication) else { throw ValidationError("--replication must be sync or async") }
    }

    func run() throws {
        let files = try PairFiles(directory: dir, port: port, replication: replication)
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let nodes = try PairFiles.names.map { name in try NodeSupervisor(name: name, config: files.config(name)) }
        let stopping = StopFlag()
        let stop = {
            guard stopping.raise() else { return }
            for node in nodes { node.stop() }
        }
        let sources = [SIGINT, SIGTERM].map { signum -> DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: signum, queue: .main)
            source.setEventHandler(handler: stop)
            source.resume()
            return source
        }
        DispatchQueue.global().async {
            for node in nodes {
                guard node.waitUntilListening(timeoutSeconds: Self.startTimeoutSeconds) else {
                    printError("lts pair: the \(node.name) did not start; stopping")
                    DispatchQueue.main.async(execute: stop)
                    return
                }
            }
            let setUp: Result<(password: String, code: String), Error>? = self.noSetup ? nil : Result { try self.setUp(files) }
            DispatchQueue.main.async { printBanner(files: files, setUp: setUp, nodes: nodes) }
        }
        DispatchQueue.global().async {
            for node in nodes { node.waitUntilStopped() }
            DispatchQueue.main.async {
                sources.forEach { $0.cancel() }
                let failed = nodes.contains { $0.exitStatus != 0 }
                // _exit: the set-up thread may be inside libcurl/OpenSSL, whose
                // exit handlers would free what it still uses.
                fflush(stdout)
                _exit(failed && !stopping.isRaised ? 1 : 0)
            }
        }
        dispatchMain()
    }

    /// The admin password of the demo pair: made once, kept in `dir`.
    static func adminPassword(in directory: String) throws -> String {
        let path = directory + "/admin-password"
        if let text = try? String(contentsOfFile: path, encoding: .utf8) { return text.trimmingCharacters(in: .whitespacesAndNewlines) }
        let password = Crypto.randomBytes(12).map { String(format: "%02x", $0) }.joined()
        guard FileManager.default.createFile(atPath: path, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw BenchFailure("cannot write \(path)")
        }
        return password
    }

    /// Sets the demo admin password and imports the demo license on the
    /// primary (each once); returns the password and the handshake code.
    private func setUp(_ files: PairFiles) throws -> (password: String, code: String) {
        let password = try Self.adminPassword(in: files.directory)
        let trusts = files.nodes.map { TLSTrust.pinnedSHA256(SelfSignedCertificate.parseFingerprint($0.fingerprint)!) }
        let probe = PairProbe(urls: [files.url(0), files.url(1)], trusts: trusts, password: password)
        let primary = try probe.waitForAttachedPair(timeoutSeconds: Self.startTimeoutSeconds)
        return (password, try probe.setUp(on: primary, license: files.license))
    }

    private func printBanner(files: PairFiles, setUp: Result<(password: String, code: String), Error>?, nodes: [NodeSupervisor]) {
        let lts = CommandLine.arguments[0]
        let servers = "\(files.url(0)),\(files.url(1))"
        var text = """
        lts pair is running (Ctrl-C stops both nodes; a node that dies is started again):
          main     https://127.0.0.1:\(port)/dls/page/#/index.html      pid \(nodes[0].pid)
                   certificate \(files.nodes[0].certificate)
          standby  https://127.0.0.1:\(port + 1)/dls/page/#/index.html      pid \(nodes[1].pid)
                   certificate \(files.nodes[1].certificate)
          data, configs, the vendor key and the demo license: \(files.directory)

        """
        switch setUp {
        case .success(let (password, code)):
            text += """
              admin password (also in \(files.directory)/admin-password): \(password)
              demo license imported; handshake code \(code)
            Run a failover drill (kills the primary under load, reports what clients saw):
              \(lts) drill failover --servers \(servers) --password \(password) --pair-dir \(files.directory)
            Or a planned switchover and back:
              \(lts) drill switchover --servers \(servers) --password \(password) --pair-dir \(files.directory) --back
            """
        case .failure(let error):
            text += """
              could not set up the demo admin and license (\(error));
              set the admin password in the main's portal and import \(files.license) there.
            """
        case nil:
            text += """
              set the admin password in the main's portal and import \(files.license) there.
            """
        }
        print(text)
        fflush(stdout)
    }
}
