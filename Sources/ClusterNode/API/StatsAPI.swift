import Foundation
import LicenseState
import Platform
import Transport

/// `GET /dls/api/admin/stats`: usage per item and handshake code over a
/// period, in 2-hour or 1-day buckets, as JSON or (`format=csv`) CSV. Read
/// from the replicated state, so a standby answers the same as the primary.
///
/// Invariant: the period is at most the 400 days statistics are kept; a
/// query it cannot answer exactly is refused (-20001), never guessed at.
/// Answers are built on a thread of their own from a copy of the
/// statistics (400 days of 2-hour rows held the loop about 150 ms in a
/// debug build), one query at a time; with `queuedMax` under way or
/// waiting, a further one is refused (503, retry).
final class StatsAPI {
    static let defaultPeriodSeconds: Int64 = 7 * UTCTime.secondsPerDay
    static let buckets: [String: Int64] = ["2h": UsageStatistics.bucketSeconds, "1d": UTCTime.secondsPerDay]
    static let queuedMax = 8

    private let service: LicenseService
    private let admin: AdminAPI
    private let worker: DedicatedWorker
    /// Queries submitted to the worker and not yet answered.
    private var queued = 0

    init(loop: EventLoop, service: LicenseService, admin: AdminAPI) {
        self.service = service
        self.admin = admin
        worker = DedicatedWorker(loop: loop, name: "lts-stats")
    }

    /// Stops the worker; queries under way get no answer (the node is stopping).
    func close() { worker.close() }

    var routes: [RouteSpec] {
        [("GET", "/api/admin/stats", HTTPServer.Route { [unowned self] in self.stats($0) })]
    }

    /// A parsed query.
    struct Query {
        var itemId: String?
        var code: String?
        var from: Int64
        var to: Int64
        var bucket: String
        var bucketSeconds: Int64
        var csv: Bool

        /// - Throws: `APIError.badRequest` saying which parameter is wrong.
        init(_ parameters: [String: String], now: Int64) throws {
            let known: Set<String> = ["item", "code", "from", "to", "bucket", "format"]
            if let unknown = parameters.keys.sorted().first(where: { !known.contains($0) }) {
                throw APIError.badRequest("Unknown parameter \"\(unknown)\"; use item, code, from, to, bucket and format.")
            }
            itemId = parameters["item"].flatMap { $0.isEmpty ? nil : $0 }
            code = parameters["code"].flatMap { $0.isEmpty ? nil : $0 }
            to = try Self.time(parameters["to"], name: "to") ?? now
            from = try Self.time(parameters["from"], name: "from") ?? to - StatsAPI.defaultPeriodSeconds
            guard from < to else { throw APIError.badRequest("\"from\" must be before \"to\".") }
            guard to - from <= UsageStatistics.retentionSeconds else {
                throw APIError.badRequest("The period is longer than the 400 days statistics are kept.")
            }
            bucket = parameters["bucket"] ?? "2h"
            guard let seconds = StatsAPI.buckets[bucket] else { throw APIError.badRequest("\"bucket\" must be 2h or 1d, not \"\(bucket)\".") }
            bucketSeconds = seconds
            let format = parameters["format"] ?? "json"
            guard format == "json" || format == "csv" else { throw APIError.badRequest("\"format\" must be json or csv, not \"\(format)\".") }
            csv = format == "csv"
        }

        /// Unix seconds, or an ISO 8601 UTC time or date.
        private static func time(_ text: String?, name: String) throws -> Int64? {
            guard let text, !text.isEmpty else { return nil }
            if let seconds = Int64(text), (0...253_402_300_799).contains(seconds) { return seconds }
            if let seconds = UTCTime.parse(text) ?? UTCTime.parse(text + "T00:00:00Z") { return seconds }
            throw APIError.badRequest("\"\(name)\" must be Unix seconds or a UTC time like 2026-11-24T00:00:00Z, not \"\(text)\".")
        }
    }

    private func stats(_ request: HTTPRequest) {
        guard admin.authorized(request) else { return }
        request.handling {
            let now = WallClock.nowSeconds()
            let query = try Query(request.query, now: now)
            guard queued < Self.queuedMax else { throw APIError.unavailable("Too many statistics queries are under way; retry in a moment.") }
            queued += 1
            let state = service.state
            let usage = state.usage, items = Array(state.items.keys), codes = Array(state.handshakes.keys)
            worker.submit({
                query.csv ? Self.csv(query: query, usage: usage) : Self.json(query: query, usage: usage, items: items, codes: codes, now: now)
            }, completion: { [weak self] answer in
                self?.queued -= 1
                request.respond(status: 200, headers: answer.headers, body: answer.body)
            })
        }
    }

    private static func json(query: Query, usage: UsageStatistics, items: [String], codes: [String], now: Int64)
        -> (headers: [(String, String)], body: Data) {
        let rows = usage.rows(from: query.from, to: query.to, bucketSeconds: query.bucketSeconds, itemId: query.itemId, code: query.code)
        let today = UsageStatistics.bucketStart(containing: now, bucketSeconds: UTCTime.secondsPerDay)
        func totals(from: Int64, to: Int64) -> [[String: Any]] {
            usage.totalsByCode(from: from, to: to, itemId: query.itemId, code: query.code).map {
                ["code": $0.code, "grants": $0.counts.grants, "units": $0.counts.units]
            }
        }
        let object: [String: Any] = [
            "bucket": query.bucket, "from": query.from, "to": query.to,
            "item": query.itemId.map { $0 as Any } ?? NSNull(), "code": query.code.map { $0 as Any } ?? NSNull(),
            "rows": rows.map { ["start": $0.start, "end": $0.end, "grants": $0.counts.grants, "units": $0.counts.units] },
            "byCode": totals(from: query.from, to: query.to),
            "byCodeToday": totals(from: today, to: today + UTCTime.secondsPerDay),
            "items": items.sorted(),
            "codes": Set(codes).union(usage.buckets.values.flatMap { $0.keys.map(\.code) }).sorted(),
        ]
        return ([("content-type", "application/json")], HTTPRequest.jsonData(object))
    }

    /// One line per bucket and (item, code) that counted something.
    private static func csv(query: Query, usage: UsageStatistics) -> (headers: [(String, String)], body: Data) {
        var lines = ["bucketStart,bucketEnd,item,code,grants,units"]
        var current: (start: Int64, counts: [UsageStatistics.Pair: UsageStatistics.Counts])?
        func flush() {
            guard let current else { return }
            for (pair, counts) in current.counts.sorted(by: { $0.key < $1.key }) {
                lines.append([UTCTime.format(current.start), UTCTime.format(current.start + query.bucketSeconds), csvField(pair.itemId),
                              csvField(pair.code), String(counts.grants), String(counts.units)].joined(separator: ","))
            }
        }
        for entry in usage.entries(from: query.from, to: query.to, itemId: query.itemId, code: query.code) {
            let start = UsageStatistics.bucketStart(containing: entry.bucketStart, bucketSeconds: query.bucketSeconds)
            if current?.start != start {
                flush()
                current = (start, [:])
            }
            current!.counts[entry.pair, default: UsageStatistics.Counts()].grants += entry.counts.grants
            current!.counts[entry.pair]!.units += entry.counts.units
        }
        flush()
        let name = "lts-usage-\(UTCTime.format(query.from).prefix(10))-\(UTCTime.format(query.to).prefix(10)).csv"
        return ([("content-type", "text/csv; charset=utf-8"), ("content-disposition", "attachment; filename=\"\(name)\"")],
                Data((lines.joined(separator: "\r\n") + "\r\n").utf8))
    }

    /// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
