import Foundation
import Transport

/// One process of a local pair: a child `lts serve` (or `lts witness`) whose output is copied,
/// each line prefixed with the node's name, to this process's standard
/// error or to a log file. It ends with this process (`SupervisorLink`).
///
/// Invariant: `listening` is set once, when the child logs "listening on".
final class PairChild {
    let name: String
    private let process = Process()
    private let condition = NSCondition()
    private var listening = false
    private var ended = false
    private var exited = false

    /// - Parameters:
    ///   - command: `serve` for a node, `witness` for the pair's witness.
    ///   - log: where its output goes (default: standard error).
    init(name: String, command: String = "serve", config: String, log: FileHandle = .standardError) throws {
        self.name = name
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0].contains("/")
            ? CommandLine.arguments[0] : "/proc/self/exe")
        process.arguments = [command, "--config", config]
        process.environment = SupervisorLink.childEnvironment()
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
