import Foundation
import LTSTestSupport
import XCTest

/// What an outsider with network access does to a node (issue 17,
/// findings 3, 4 and 9), through the tools in tests/attack/. Each test
/// fails on a node without the connection table of lts_connections.c.
/// `make attack` runs them longer (`LTS_ATTACK_SCALE`).
final class AttackTests: XCTestCase {
    /// How much longer and larger `make attack` makes every attack.
    static let scale = max(1, Int(ProcessInfo.processInfo.environment["LTS_ATTACK_SCALE"] ?? "1") ?? 1)

    func testAbortedUploadsGiveTheirMemoryAndDescriptorsBack() throws {
        let licensed = try LicensedNode()
        let pid = try XCTUnwrap(licensed.node.process?.processIdentifier)
        let port = String(licensed.node.port)
        // A first round reaches the allocator's steady state.
        let descriptorsIdle = try Self.descriptors(pid: pid)
        try Self.attack("aborted_uploads.py", [port, "50", "1048576", "1000000", "/dls/api/admin/login"])
        XCTAssertTrue(try Self.waitForDescriptors(pid: pid, atMost: descriptorsIdle))
        let descriptorsBefore = try Self.descriptors(pid: pid)
        let residentBefore = try Self.residentKB(pid: pid)
        let count = 1_000 * Self.scale
        let result = try Self.attack("aborted_uploads.py", [port, "\(count)", "1048576", "1000000", "/dls/api/admin/login"])
        XCTAssertEqual(result["uploads"] as? Int, count)
        let closed = try Self.waitForDescriptors(pid: pid, atMost: descriptorsBefore + 2)
        let descriptorsAfter = try Self.descriptors(pid: pid)
        XCTAssertTrue(closed, "the aborted uploads' connections stay open: \(descriptorsAfter) descriptors, \(descriptorsBefore) before")
        let residentAfter = try Self.residentKB(pid: pid)
        print("aborted uploads: \(count), resident \(residentBefore / 1024) → \(residentAfter / 1024) MB, descriptors \(descriptorsBefore) → \(descriptorsAfter)")
        XCTAssertLessThan(residentAfter - residentBefore, 20 * 1024, "resident memory grew past 20 MB")
        XCTAssertEqual(try licensed.health()["role"] as? String, "standalone")
    }

    func testAnUploadOverItsRoutesLimitIsCutOffBeforeItsEnd() throws {
        let licensed = try LicensedNode()
        // Login takes 4 KiB; 1 MiB is under the node's global limit, so only
        // the route's limit, read from the head as the body comes, stops it.
        let result = try Self.attack("slow_upload.py", [String(licensed.node.port), "1048576", "/dls/api/admin/login", "20"])
        XCTAssertEqual(result["closedByNode"] as? Bool, true, "\(result)")
        XCTAssertLessThan(try XCTUnwrap(result["sent"] as? Int), 1_048_576 / 2, "\(result)")
        XCTAssertNotNil(licensed.node.waitForLogLine(containing: "aborted an upload larger than its route takes", timeoutSeconds: 5))
    }

    func testIdleConnectionsCannotTakeEveryDescriptor() throws {
        // 300 open files: the node keeps at most 225 connections. 400 idle
        // ones from eight addresses would take every descriptor. A client's
        // TLS connection opened before them, still without a request, is
        // the oldest fresh one: the node closes the flood's, not it. The
        // node is paused while the flood and one more client queue up, so
        // it meets them in one pass of its loop: closing the flood's
        // connections must not run it out of descriptors first (libuv then
        // drops every connection still queued, the late client's too).
        let node = try NodeProcess(config: ["serverMode": "standalone", "listen": "127.0.0.1:0", "dataDir": "data"],
                                   launcher: ["/bin/sh", "-c", "ulimit -n 300 && exec \"$@\"", "sh"])
        try node.start()
        let pid = try XCTUnwrap(node.process?.processIdentifier)
        let idle = try Self.startAttack("idle_connections.py", [String(node.port), "\(400 * Self.scale)", "2", "8", "\(3 * Self.scale)",
                                                                "--probe", "--burst-of", String(pid)])
        XCTAssertNotNil(idle.waitForLine(containing: "\"opened\"", timeoutSeconds: 30))
        for _ in 0..<5 {
            let health = try node.client.send("GET", node.url("/api/health"))
            XCTAssertEqual(health.status, 200)
        }
        let result = try idle.finish()
        XCTAssertGreaterThan(try XCTUnwrap(result["closedByNode"] as? Int), 100, "\(result)")
        XCTAssertEqual(result["probe"] as? String, "HTTP/1.1 200", "\(result)")
        XCTAssertEqual(result["late"] as? String, "HTTP/1.1 200", "\(result)")
        XCTAssertNotNil(node.waitForLogLine(containing: "to make room", timeoutSeconds: 5))
        let evicted = try node.metrics()["lts_http_connection_limit_events_total{event=\"handshake_evicted\"}"]
        XCTAssertGreaterThan(try XCTUnwrap(evicted), 100)
    }

    func testOneAddressCannotHoldMoreThanItsShare() throws {
        let node = try NodeProcess(config: ["serverMode": "standalone", "listen": "127.0.0.1:0", "dataDir": "data",
                                            "connections": ["perAddress": 20, "handshakesPerAddress": 100]])
        try node.start()
        let idle = try Self.startAttack("idle_connections.py", [String(node.port), "60", "2", "1", "2"])
        XCTAssertNotNil(idle.waitForLine(containing: "\"opened\"", timeoutSeconds: 30))
        let health = try node.client.send("GET", node.url("/api/health"))
        XCTAssertEqual(health.status, 200, "another address still gets in")
        let result = try idle.finish()
        XCTAssertEqual(result["closedByNode"] as? Int, 40, "\(result)")
        XCTAssertNotNil(node.waitForLogLine(containing: "its address holds the most connections one address may, from 127.0.0.2",
                                            timeoutSeconds: 5))
    }

    func testAnHTTP2ConnectionThatResetsEveryStreamIsClosed() throws {
        let licensed = try LicensedNode(extraConfig: ["http2": true])
        let imported = try licensed.importLicense(try licensed.issue(items: ["itemId=s,product=dbr,chargeWay=scan,quantity=100000000,expires=2099-12-31"]))
        let code = try XCTUnwrap(imported.json?["handshakeCode"] as? String)
        let body = String(decoding: json(["handshakeCode": code, "clientUUID": "c", "product": "dbr"]), as: UTF8.self)
        let streams = 20_000 * Self.scale
        let result = try Self.attack("h2_rapid_reset.py", [String(licensed.node.port), "\(streams)", "/dls/api/v1/authorize", body])
        print("rapid reset: \(result)")
        XCTAssertTrue(result["goaway"] as? Bool == true || result["closedByNode"] as? Bool == true, "\(result)")
        XCTAssertLessThan(try XCTUnwrap(result["sent"] as? Int), streams, "\(result)")
        XCTAssertNotNil(licensed.node.waitForLogLine(containing: "reset too many streams", timeoutSeconds: 5))
        XCTAssertEqual(try licensed.client("authorize", ["handshakeCode": code, "clientUUID": "d", "product": "dbr"]).status, 200)
    }

    // MARK: - Running the tools

    static let toolDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tests/attack").path

    /// Runs a tool to its end and returns its JSON line.
    @discardableResult
    static func attack(_ tool: String, _ arguments: [String]) throws -> [String: Any] {
        try startAttack(tool, arguments).finish()
    }

    /// Starts a tool at nice 19: on this one machine the attacker's
    /// processes must not take the node's cores, as a remote one cannot.
    static func startAttack(_ tool: String, _ arguments: [String]) throws -> AttackRun {
        AttackRun(process: try SpawnedProcess(["/usr/bin/nice", "-n", "19", "/usr/bin/python3", toolDirectory + "/" + tool] + arguments))
    }

    static func descriptors(pid: Int32) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
    }

    static func residentKB(pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status")
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return try XCTUnwrap(Int(line.split(separator: " ")[1]))
    }

    /// Waits (up to 10 s) for the process to hold at most `count` descriptors.
    static func waitForDescriptors(pid: Int32, atMost count: Int) throws -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if try descriptors(pid: pid) <= count { return true }
            usleep(50_000)
        }
        return false
    }
}

/// A tool of tests/attack/ running: its output read line by line.
final class AttackRun {
    let process: SpawnedProcess
    private var pending = Data()
    private var lines: [String] = []

    init(process: SpawnedProcess) {
        self.process = process
    }

    /// Waits for an output line containing `needle`.
    func waitForLine(containing needle: String, timeoutSeconds: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while true {
            if let line = lines.first(where: { $0.contains(needle) }) { return line }
            let left = deadline.timeIntervalSinceNow
            guard left > 0, read(timeoutMs: Int32(left * 1_000)) else { return nil }
        }
    }

    /// Reads the rest, waits for the exit and returns the last line's JSON.
    func finish() throws -> [String: Any] {
        while read(timeoutMs: -1) {}
        let status = process.wait()
        let error = String(decoding: process.standardError.readDataToEndOfFile(), as: UTF8.self)
        guard status == 0, let last = lines.last,
              let object = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any] else {
            throw AttackToolError(description: "the tool failed (status \(status)): \(lines.joined(separator: "\n"))\n\(error)")
        }
        return object
    }

    /// Reads what is there (waiting up to `timeoutMs`, -1 for ever).
    /// - Returns: false at the end of the output or on timeout.
    private func read(timeoutMs: Int32) -> Bool {
        var poller = pollfd(fd: process.standardOutput.fileDescriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMs) > 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = Glibc.read(poller.fd, &buffer, buffer.count)
        guard count > 0 else { return false }
        pending.append(contentsOf: buffer[0..<count])
        while let newline = pending.firstIndex(of: 10) {
            lines.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
            pending = Data(pending[pending.index(after: newline)...])
        }
        return true
    }
}

struct AttackToolError: Error, CustomStringConvertible {
    let description: String
}
