import Foundation
import Platform
import Transport

/// The demo main + standby pair of `lts pair`: makes its files, runs both
/// nodes as supervised children, sets up the admin password and the demo
/// license on first start, and prints how to reach it.
///
/// Invariant: both nodes run as supervised child `lts serve` processes (one
/// that dies is started again); `run` ends the process only after both have
/// stopped (Ctrl-C or SIGTERM stops them gracefully), with status 1 if either
/// could not start.
public struct DemoPair {
    /// How long a node may take to start listening.
    static let startTimeoutSeconds = 30.0

    let directory: String
    let port: Int
    let replication: String
    /// Whether to set the admin password and import the demo license.
    let setUp: Bool
    /// Whether to run a witness too (on `port + 2`).
    let witness: Bool

    public init(directory: String, port: Int, replication: String, setUp: Bool, witness: Bool = false) {
        self.directory = directory
        self.port = port
        self.replication = replication
        self.setUp = setUp
        self.witness = witness
    }

    public func run() throws -> Never {
        let files = try PairFiles(directory: directory, port: port, replication: replication, witness: witness)
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        // The witness first: a node with a witness takes no term without it.
        let witnesses = try files.witnessConfig.map { [try NodeSupervisor(name: "witness", command: "witness", config: $0)] } ?? []
        let nodes = try witnesses + PairFiles.names.map { name in try NodeSupervisor(name: name, config: files.config(name)) }
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
            let setUp: Result<(password: String, code: String), Error>? = !self.setUp ? nil : Result { try self.setUpDemo(files) }
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

    /// The admin password of the demo pair: made once, kept in `directory`.
    static func adminPassword(in directory: String) throws -> String {
        let path = directory + "/admin-password"
        if let text = try? String(contentsOfFile: path, encoding: .utf8) { return text.trimmingCharacters(in: .whitespacesAndNewlines) }
        let password = Crypto.hex(Crypto.randomBytes(12))
        guard FileManager.default.createFile(atPath: path, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw BenchFailure("cannot write \(path)")
        }
        return password
    }

    /// Sets the demo admin password and imports the demo license on the
    /// primary (each once); returns the password and the handshake code.
    private func setUpDemo(_ files: PairFiles) throws -> (password: String, code: String) {
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
          main     https://127.0.0.1:\(port)/dls/page/#/index.html      pid \(nodes[nodes.count - 2].pid)
                   certificate \(files.nodes[0].certificate)
          standby  https://127.0.0.1:\(port + 1)/dls/page/#/index.html      pid \(nodes[nodes.count - 1].pid)
                   certificate \(files.nodes[1].certificate)
          data, configs, the vendor key and the demo license: \(files.directory)

        """
        if let witnessConfig = files.witnessConfig {
            text += """
              witness  https://127.0.0.1:\(port + 2)/      pid \(nodes[0].pid)   (config \(witnessConfig))

            """
        }
        switch setUp {
        case .success(let (password, code)):
            text += """
              admin password (also in \(files.directory)/admin-password): \(password)
              demo license imported; handshake code \(code)
            Run a failover drill (kills the primary under load, reports what clients saw):
              \(lts) drill failover --servers \(servers) --password-file \(files.directory)/admin-password --pair-dir \(files.directory)
            Or a planned switchover and back:
              \(lts) drill switchover --servers \(servers) --password-file \(files.directory)/admin-password --pair-dir \(files.directory) --back
            Their reports stay in the pair's log: the portal's Cluster page lists them.
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
