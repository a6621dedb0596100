import Foundation
import Platform

/// A usage report no server took yet, with the request ID it keeps for
/// every delivery attempt (so a server counts it once).
public struct BufferedReport: Equatable {
    public var requestId: String
    public var scans: Int
    public var grantId: String?
    /// When it was first made (Unix seconds).
    public var at: Int64

    public init(requestId: String, scans: Int, grantId: String?, at: Int64) {
        self.requestId = requestId
        self.scans = scans
        self.grantId = grantId
        self.at = at
    }
}

/// Usage reports waiting for a server, kept in a file (one JSON object a
/// line) so that they survive the client's restart; bounded in count and
/// in age (`maxAgeSeconds`, 7 days by default: a server remembers request
/// IDs for 8).
///
/// Invariant: the file holds exactly `pending`, oldest first, each request
/// ID once; an append is durable before it returns; a report older than
/// `maxAgeSeconds` is dropped (and counted), never delivered.
public final class ReportBuffer {
    public struct Full: Error, CustomStringConvertible {
        public let description: String
    }

    public static let defaultMaxAgeSeconds: Int64 = 7 * 86_400

    public let path: String
    public let maxEntries: Int
    public let maxAgeSeconds: Int64
    public private(set) var pending: [BufferedReport] = []
    /// Reports dropped because they grew too old.
    public private(set) var expiredTotal = 0
    private let lock = NSLock()

    /// Loads the buffer at `path` (empty when there is no file).
    /// - Throws: when the file cannot be read or holds a line that is no report.
    public init(path: String, maxEntries: Int = 100_000, maxAgeSeconds: Int64 = ReportBuffer.defaultMaxAgeSeconds) throws {
        self.path = path
        self.maxEntries = maxEntries
        self.maxAgeSeconds = maxAgeSeconds
        guard FileManager.default.fileExists(atPath: path) else { return }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for (index, line) in text.split(separator: "\n").enumerated() {
            guard let report = Self.decode(String(line)) else {
                throw TransportError("\(path) line \(index + 1) is no buffered report; move the file away to start with an empty buffer")
            }
            pending.append(report)
        }
    }

    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return pending.count
    }

    /// Adds `report` durably.
    /// - Throws: `Full` at `maxEntries`, or when the file cannot be written.
    public func append(_ report: BufferedReport) throws {
        lock.lock()
        defer { lock.unlock() }
        guard pending.count < maxEntries else {
            throw Full(description: "the report buffer \(path) holds \(maxEntries) reports, its limit; the report was not kept")
        }
        if !FileManager.default.fileExists(atPath: path) {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw TransportError("cannot create \(path)")
            }
        }
        guard let file = FileHandle(forWritingAtPath: path) else { throw TransportError("cannot open \(path)") }
        defer { try? file.close() }
        try file.seekToEnd()
        try file.write(contentsOf: Data((Self.encode(report) + "\n").utf8))
        try file.synchronize()
        pending.append(report)
    }

    /// The reports to deliver now, oldest first; drops those older than
    /// `maxAgeSeconds` at `now`.
    public func deliverable(now: Int64) throws -> [BufferedReport] {
        lock.lock()
        defer { lock.unlock() }
        let fresh = pending.filter { now - $0.at <= maxAgeSeconds }
        if fresh.count != pending.count {
            expiredTotal += pending.count - fresh.count
            try rewrite(fresh)
        }
        return fresh
    }

    /// Removes the reports with these request IDs (delivered or refused).
    public func remove(_ requestIds: Set<String>) throws {
        guard !requestIds.isEmpty else { return }
        lock.lock()
        defer { lock.unlock() }
        try rewrite(pending.filter { !requestIds.contains($0.requestId) })
    }

    /// Replaces the file atomically with `reports`.
    private func rewrite(_ reports: [BufferedReport]) throws {
        let text = reports.map { Self.encode($0) + "\n" }.joined()
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        pending = reports
    }

    static func encode(_ report: BufferedReport) -> String {
        var object: [String: Any] = ["requestId": report.requestId, "scans": report.scans, "at": report.at]
        if let grantId = report.grantId { object["grantId"] = grantId }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ line: String) -> BufferedReport? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
              Set(object.keys).isSubset(of: ["requestId", "scans", "at", "grantId"]),
              let requestId = object["requestId"] as? String, !requestId.isEmpty,
              let scans = object["scans"] as? Int, scans >= 1, let at = (object["at"] as? NSNumber)?.int64Value else { return nil }
        let grantId = object["grantId"]
        guard grantId == nil || grantId is String else { return nil }
        return BufferedReport(requestId: requestId, scans: scans, grantId: grantId as? String, at: at)
    }
}
