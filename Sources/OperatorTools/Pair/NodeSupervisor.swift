import Foundation

/// Keeps one node of a local pair running: starts it as a `PairChild` and,
/// when it exits without being asked to (killed by a failover drill, or a
/// crash), starts it again a second later, as a service manager would.
///
/// Invariant: at most one child runs at a time; after `stop()` none is
/// started again, and `waitUntilStopped()` returns once the last one exited.
final class NodeSupervisor: @unchecked Sendable {
    /// The pause before a restart, so a node that cannot start is not spun on.
    static let restartDelaySeconds: UInt32 = 1

    let name: String
    private let command: String
    private let config: String
    private let log: FileHandle
    private let condition = NSCondition()
    private var child: PairChild?
    private var stopped = false
    private var finished = false

    /// Starts the node (`lts COMMAND --config CONFIG`) at once.
    init(name: String, command: String = "serve", config: String, log: FileHandle = .standardError) throws {
        self.name = name
        self.command = command
        self.config = config
        self.log = log
        child = try PairChild(name: name, command: command, config: config, log: log)
        Thread.detachNewThread { [self] in supervise() }
    }

    private func supervise() {
        while true {
            condition.lock()
            let current = child
            condition.unlock()
            current?.waitUntilExit()
            condition.lock()
            if stopped || current == nil {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            condition.unlock()
            log.write(Data("[\(name)] exited with status \(current!.exitStatus); starting it again in \(Self.restartDelaySeconds) s\n".utf8))
            sleep(Self.restartDelaySeconds)
            condition.lock()
            if !stopped {
                do {
                    child = try PairChild(name: name, command: command, config: config, log: log)
                } catch {
                    child = nil
                    log.write(Data("[\(name)] cannot be started again: \(error)\n".utf8))
                }
            }
            condition.unlock()
        }
    }

    /// The running child's pid (0 between a crash and its restart).
    var pid: Int32 {
        condition.lock()
        defer { condition.unlock() }
        return child?.pid ?? 0
    }

    func waitUntilListening(timeoutSeconds: Double) -> Bool {
        condition.lock()
        let current = child
        condition.unlock()
        return current?.waitUntilListening(timeoutSeconds: timeoutSeconds) ?? false
    }

    /// Stops the node (SIGTERM) and keeps it stopped.
    func stop() {
        condition.lock()
        stopped = true
        let current = child
        condition.unlock()
        current?.terminate()
    }

    /// The exit status of the last child (valid after `waitUntilStopped`).
    var exitStatus: Int32 {
        condition.lock()
        defer { condition.unlock() }
        return child?.exitStatus ?? 1
    }

    func waitUntilStopped() {
        condition.lock()
        defer { condition.unlock() }
        while !finished { condition.wait() }
    }
}
