import Foundation
import Platform
import Transport

/// A child process started with `posix_spawn` and reaped with `waitpid`,
/// its standard output and error on pipes. Not Foundation's `Process`,
/// whose `waitUntilExit` polls a run loop on Linux: here a test blocks in
/// `waitpid` until the child is really gone.
///
/// Invariant: the child is reaped exactly once, by `wait()` or, when nobody
/// waited, by `deinit` after SIGKILL; no signal is sent after it was reaped
/// (its pid may belong to someone else by then).
public final class SpawnedProcess {
    public let pid: pid_t
    /// The read ends of the child's standard output and error.
    public let standardOutput: FileHandle
    public let standardError: FileHandle
    private let lock = NSLock()
    private var status: Int32?

    /// Starts `arguments[0]` (an absolute path) with the rest as arguments
    /// and this process's environment.
    public init(_ arguments: [String]) throws {
        precondition(arguments.first?.hasPrefix("/") == true, "SpawnedProcess needs an absolute path")
        let outPipe = try Self.closeOnExecPipe()
        let errPipe: [Int32]
        do {
            errPipe = try Self.closeOnExecPipe()
        } catch {
            outPipe.forEach { close($0) }
            throw error
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        close(outPipe[1])
        close(errPipe[1])
        standardOutput = FileHandle(fileDescriptor: outPipe[0], closeOnDealloc: true)
        standardError = FileHandle(fileDescriptor: errPipe[0], closeOnDealloc: true)
        guard spawned == 0 else { throw TransportError("cannot run \(arguments[0]): errno \(spawned)") }
        self.pid = pid
    }

    /// A pipe whose ends other children do not inherit, so that its reader
    /// sees the end when this child exits; dup2 in the child clears the flag
    /// on descriptors 1 and 2. (Glibc's pipe2 is not visible to Swift.)
    private static func closeOnExecPipe() throws -> [Int32] {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw TransportError("pipe() failed: errno \(errno)") }
        for end in ends where fcntl(end, F_SETFD, FD_CLOEXEC) != 0 {
            ends.forEach { close($0) }
            throw TransportError("fcntl(FD_CLOEXEC) failed: errno \(errno)")
        }
        return ends
    }

    deinit {
        if status == nil {
            kill(pid, SIGKILL)
            wait()
        }
    }

    /// Sends `number` unless the child was already reaped.
    public func signal(_ number: Int32) {
        lock.lock()
        defer { lock.unlock() }
        if status == nil { kill(pid, number) }
    }

    /// Blocks until the child exited (at once when it was reaped before).
    /// - Returns: its wait status (0 is a normal exit with code 0).
    @discardableResult
    public func wait() -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        if let status { return status }
        var waited: Int32 = 0
        while waitpid(pid, &waited, 0) < 0 {
            precondition(errno == EINTR, "waitpid(\(pid)) failed: errno \(errno)")
        }
        status = waited
        return waited
    }

    /// Whether the child still runs (reaping it when it has exited).
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        guard status == nil else { return false }
        var waited: Int32 = 0
        guard waitpid(pid, &waited, WNOHANG) == pid else { return true }
        status = waited
        return false
    }

    /// Runs `arguments` to completion.
    /// - Returns: its standard output.
    /// - Throws: when it cannot start or exits other than with code 0, with its standard error.
    public static func output(of arguments: [String]) throws -> String {
        let child = try SpawnedProcess(arguments)
        let errors = LogCollector()
        errors.attach(child.standardError)
        let output = child.standardOutput.readDataToEndOfFile()
        let status = child.wait()
        guard status == 0 else {
            _ = errors.waitForEnd(timeoutSeconds: 5)
            throw TransportError("\(arguments.joined(separator: " ")) failed (wait status \(status)): \(errors.text)")
        }
        return String(decoding: output, as: UTF8.self)
    }
}
