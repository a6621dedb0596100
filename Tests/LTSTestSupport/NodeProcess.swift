import Foundation
import Platform
import Transport
import XCTest

/// A real `lts serve` process on loopback, with its own temporary config and
/// data dir, for tests that check what users see.
///
/// Invariant: the process is killed (SIGKILL) when the object goes away if
/// it still runs; `start` returns only after the node logged that it listens.
public final class NodeProcess {
    /// How long a node may take to start listening.
    public static let startTimeoutSeconds = 30.0

    public let directory: String
    public let configPath: String
    public private(set) var process: Process?
    public private(set) var port = 0
    /// The certificate the tests pin (from the start log; set anew after a renewal).
    public var fingerprint: [UInt8] = []
    /// The output of the current (or last) process; each start gets a new one.
    private var log = LogCollector()

    /// The address the node listens on.
    public let host: String
    /// A command prefix the node runs under (e.g. `ip netns exec NAME`).
    public let launcher: [String]
    /// The `lts` the next `start` runs (another version's, for an upgrade).
    public var executable = NodeProcess.binary

    /// Writes `config` (a JSON object) as `lts.json` in a new temporary directory.
    public init(config: [String: Any], directory: String? = nil, host: String = "127.0.0.1", launcher: [String] = []) throws {
        self.host = host
        self.launcher = launcher
        self.directory = directory ?? NSTemporaryDirectory() + "lts-node-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        configPath = self.directory + "/lts.json"
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: configPath))
    }

    deinit {
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// The built `lts` executable next to the test bundle.
    public static var binary: String {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if directory.lastPathComponent == "MacOS" { directory = directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
        return directory.appendingPathComponent("lts").path
    }

    /// Runs `lts ARGS` to completion (under `launcher`, e.g. in a namespace),
    /// with `environment` added to this process's; one still running after
    /// `timeoutSeconds` is killed (status SIGKILL).
    /// - Returns: the exit status, standard output and standard error.
    public static func run(_ arguments: [String], launcher: [String] = [], environment: [String: String] = [:],
                           timeoutSeconds: Double = 120) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        let command = launcher + [binary] + arguments
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let pid = process.processIdentifier
        let deadline = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds, execute: deadline)
        defer { deadline.cancel() }
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// Starts `lts serve` (or `lts ARGUMENTS`, e.g. a witness) in the
    /// node's directory and waits for its "listening on" line.
    public func start(arguments: [String]? = nil) throws {
        let process = Process()
        let command = launcher + [executable] + (arguments ?? ["serve", "--config", configPath])
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        log = LogCollector()
        log.attach(pipe.fileHandleForReading)
        try process.run()
        self.process = process
        guard let line = log.waitForLine(containing: "listening on", timeoutSeconds: Self.startTimeoutSeconds) else {
            throw TransportError("the node did not start listening; its log:\n\(log.text)")
        }
        // The first ":PORT/" of the line: the URL's (a node's, or a witness's).
        guard let range = line.range(of: #":\d+/"#, options: .regularExpression),
              let port = Int(line[range].dropFirst().dropLast()) else {
            throw TransportError("no port in \(line)")
        }
        self.port = port
        // The line naming the certificate served ends with its fingerprint.
        if let served = log.lines.lazy.compactMap({ $0.split(separator: " ").last.flatMap { SelfSignedCertificate.parseFingerprint(String($0)) } }).first {
            fingerprint = served
        }
    }

    /// Sends `signal` and waits for the process to exit.
    /// - Returns: its exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) -> Int32 {
        guard let process else { return -1 }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Waits for the current process to log a line containing `needle`.
    /// - Returns: the line, or nil when it did not come within the time.
    public func waitForLogLine(containing needle: String, timeoutSeconds: Double) -> String? {
        log.waitForLine(containing: needle, timeoutSeconds: timeoutSeconds)
    }

    /// Everything the current (or last) process logged so far.
    public var logText: String { log.text }

    /// `https://HOST:PORT/PREFIX/` for this node.
    public func url(_ path: String, prefix: String = "dls") -> String {
        "https://\(host):\(port)/\(prefix)\(path)"
    }

    /// A client that trusts this node by its certificate fingerprint.
    public var client: HTTPClient { HTTPClient(trust: .pinnedSHA256(fingerprint)) }
}

/// Collects a child's output lines on a background thread and lets a test
/// wait for a line (an event, with a deadline; never a sleep).
final class LogCollector {
    private let condition = NSCondition()
    private var collected: [String] = []
    private var partial = ""
    private var ended = false

    func attach(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let data = handle.availableData
                condition.lock()
                if data.isEmpty {
                    if !partial.isEmpty { collected.append(partial) }
                    partial = ""
                    ended = true
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                partial += String(decoding: data, as: UTF8.self)
                var parts = partial.components(separatedBy: "\n")
                partial = parts.removeLast()
                collected += parts
                condition.broadcast()
                condition.unlock()
            }
        }
    }

    var lines: [String] {
        condition.lock()
        defer { condition.unlock() }
        return collected
    }

    var text: String { lines.joined(separator: "\n") }

    func waitForLine(containing needle: String, timeoutSeconds: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let line = collected.first(where: { $0.contains(needle) }) { return line }
            guard !ended, condition.wait(until: deadline) else { return nil }
        }
    }

    /// Waits until the writer closed the output.
    /// - Returns: false when it was still open at the deadline.
    func waitForEnd(timeoutSeconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        condition.lock()
        defer { condition.unlock() }
        while !ended {
            guard condition.wait(until: deadline) else { return false }
        }
        return true
    }

    /// Waits until at least `count` lines satisfy `predicate`.
    /// - Returns: all such lines, or nil when fewer came within the time
    ///   (or the output ended with fewer).
    func waitForLines(count: Int, where predicate: (String) -> Bool, timeoutSeconds: Double) -> [String]? {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        condition.lock()
        defer { condition.unlock() }
        while true {
            let matching = collected.filter(predicate)
            if matching.count >= count { return matching }
            guard !ended, condition.wait(until: deadline) else { return nil }
        }
    }
}
