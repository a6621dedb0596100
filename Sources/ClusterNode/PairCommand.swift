import ArgumentParser
import Foundation
import Transport

/// `lts pair`: a demo main + standby pair on this machine, with a vendor
/// key and a license file ready to import.
///
/// Invariant: both nodes run as child `lts serve` processes; the command
/// ends only after both have stopped (Ctrl-C or SIGTERM stops them
/// gracefully), and exits non-zero if either could not start.
struct PairCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pair",
        abstract: "Run a demo main + standby pair on 127.0.0.1.",
        discussion: """
        The main listens on --port, the standby on --port + 1, with their data, configuration, \
        certificates, a demo vendor key and license file under --dir (kept between runs). \
        Ctrl-C stops both.
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

    func validate() throws {
        guard (1...65534).contains(port) else { throw ValidationError("--port must be 1 to 65534") }
        guard ["sync", "async"].contains(replication) else { throw ValidationError("--replication must be sync or async") }
    }

    func run() throws {
        let files = try PairFiles(directory: dir, port: port, replication: replication)
        let base = files.directory
        let license = files.license
        let nodes = files.nodes

        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let children = try PairFiles.names.map { name in try PairChild(name: name, config: files.config(name)) }
        let stopping = StopFlag()
        let stop = {
            guard stopping.raise() else { return }
            for child in children { child.terminate() }
        }
        let sources = [SIGINT, SIGTERM].map { signum -> DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: signum, queue: .main)
            source.setEventHandler(handler: stop)
            source.resume()
            return source
        }
        DispatchQueue.global().async {
            for child in children {
                guard child.waitUntilListening(timeoutSeconds: Self.startTimeoutSeconds) else {
                    printError("lts pair: the \(child.name) did not start; stopping")
                    DispatchQueue.main.async(execute: stop)
                    return
                }
            }
            DispatchQueue.main.async { printBanner(base: base, license: license, nodes: nodes, children: children) }
        }
        DispatchQueue.global().async {
            for child in children { child.waitUntilExit() }
            DispatchQueue.main.async {
                sources.forEach { $0.cancel() }
                let failed = children.contains { $0.exitStatus != 0 }
                Foundation.exit(failed && !stopping.isRaised ? 1 : 0)
            }
        }
        dispatchMain()
    }

    private func printBanner(base: String, license: String, nodes: [(certificate: String, fingerprint: String)], children: [PairChild]) {
        print("""

        lts pair is running (Ctrl-C stops both nodes):
          main     https://127.0.0.1:\(port)/dls/page/#/index.html      pid \(children[0].pid)
                   certificate \(nodes[0].certificate)
          standby  https://127.0.0.1:\(port + 1)/dls/page/#/index.html      pid \(children[1].pid)
                   certificate \(nodes[1].certificate)
          demo license to import: \(license)
          data, configs and the vendor key: \(base)

        Set the admin password in the main's portal, import the demo license, then try a failover:
          kill -9 \(children[0].pid)   # the standby takes over within about a second
          \(CommandLine.arguments[0]) health --server https://127.0.0.1:\(port + 1)/dls/ --cacert \(nodes[1].certificate)

        """)
        fflush(stdout)
    }
}

/// One node of a local pair: a child `lts serve` whose output is copied,
/// each line prefixed with the node's name, to this process's standard
/// error or to a log file.
///
/// Invariant: `listening` is set once, when the child logs "listening on".
final class PairChild {
    let name: String
    private let process = Process()
    private let condition = NSCondition()
    private var listening = false
    private var ended = false
    private var exited = false

    /// - Parameter log: where its output goes (default: standard error).
    init(name: String, config: String, log: FileHandle = .standardError) throws {
        self.name = name
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0].contains("/")
            ? CommandLine.arguments[0] : "/proc/self/exe")
        process.arguments = ["serve", "--config", config]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.terminationHandler = { [weak self] _ in self?.mark { self?.exited = true } }
        try process.run()
        let handle = pipe.fileHandleForReading
        Thread.detachNewThread { [self] in
            var partial = ""
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                partial += String(decoding: data, as: UTF8.self)
                var lines = partial.components(separatedBy: "\n")
                partial = lines.removeLast()
                for line in lines {
                    log.write(Data("[\(name)] \(line)\n".utf8))
                    if line.contains("listening on") { mark { listening = true } }
                }
            }
            mark { ended = true }
        }
    }

    var pid: Int32 { process.processIdentifier }
    var exitStatus: Int32 { process.terminationStatus }

    private func mark(_ change: () -> Void) {
        condition.lock()
        change()
        condition.broadcast()
        condition.unlock()
    }

    /// True once the node listens; false if it ended or the time ran out.
    func waitUntilListening(timeoutSeconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        condition.lock()
        defer { condition.unlock() }
        while !listening {
            guard !ended, condition.wait(until: deadline) else { return false }
        }
        return true
    }

    func terminate() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
    }

    /// Blocks until the child exited. (Foundation's `waitUntilExit` spins a
    /// run loop on Linux: a whole core for as long as the pair runs.)
    func waitUntilExit() {
        condition.lock()
        defer { condition.unlock() }
        while !exited { condition.wait() }
    }
}

/// A flag raised once, read from any thread: whether the pair was asked to stop.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false

    /// Raises the flag; false when it was raised already.
    func raise() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        defer { raised = true }
        return !raised
    }

    var isRaised: Bool {
        lock.lock()
        defer { lock.unlock() }
        return raised
    }
}
