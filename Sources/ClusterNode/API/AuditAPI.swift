import Foundation
import LicenseState
import Transport

/// `GET /dls/api/admin/audit`: the audit log, newest first, as JSON
/// (`[{"id","at","actor","address","action","object","result"}]`) or, with
/// `format=csv`, as CSV with a header row. Parameters, all optional:
/// `since` (`YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DD`: entries at or after
/// it), `before` (an entry ID: entries older than it, the next page),
/// `limit` (1 to `pageMax`, default 100), `action` (one action's name),
/// `actor` and `text` (case-insensitive parts of the actor, or of any
/// field), `format` (`json` or `csv`).
///
/// Invariant: a query is checked whole before anything is read (a bad one
/// is 400 -20220); the page is searched and encoded on the thread pool, one
/// query at a time (more are answered 503), from a copy of the log as it
/// was when the query arrived, so the loop is never held by a search.
final class AuditAPI {
    /// Most entries one page returns.
    static let pageMax = 1_000
    static let defaultLimit = 100
    static let parameters: Set<String> = ["since", "before", "limit", "action", "actor", "text", "format"]
    /// Longest `actor` or `text` filter.
    static let filterBytesMax = 256

    private let loop: EventLoop
    private let service: LicenseService
    private let admin: AdminAPI
    /// A page is being searched on the pool.
    private var searching = false

    init(loop: EventLoop, service: LicenseService, admin: AdminAPI) {
        self.loop = loop
        self.service = service
        self.admin = admin
    }

    var routes: [RouteSpec] {
        [("GET", "/api/admin/audit", HTTPServer.Route { [unowned self] in self.audit($0) })]
    }

    static func badQuery(_ message: String) -> APIError {
        APIError(status: 400, code: -20220, message: "The audit query is malformed: \(message)")
    }

    /// A checked query.
    struct Query {
        var since: Int64?
        var beforeId: Int64?
        var limit = AuditAPI.defaultLimit
        var action: AuditEntry.Action?
        var actor: String?
        var text: String?
        var csv = false

        /// - Throws: `badQuery` naming the first parameter that is wrong.
        init(_ parameters: [String: String]) throws {
            if let unknown = parameters.keys.sorted().first(where: { !AuditAPI.parameters.contains($0) }) {
                throw AuditAPI.badQuery("unknown parameter \"\(unknown)\"; use \(AuditAPI.parameters.sorted().joined(separator: ", ")).")
            }
            if let text = parameters["since"], !text.isEmpty {
                guard let since = UTCTime.parse(text) else { throw AuditAPI.badQuery("since must be a UTC time (2026-12-07T09:30:00Z) or a date (2026-12-07).") }
                self.since = since
            }
            if let text = parameters["before"], !text.isEmpty {
                guard let before = Int64(text), before > 0 else { throw AuditAPI.badQuery("before must be an entry ID (a positive number).") }
                beforeId = before
            }
            if let text = parameters["limit"], !text.isEmpty {
                guard let limit = Int(text), (1...AuditAPI.pageMax).contains(limit) else {
                    throw AuditAPI.badQuery("limit must be a number from 1 to \(AuditAPI.pageMax).")
                }
                self.limit = limit
            }
            if let text = parameters["action"], !text.isEmpty {
                guard let action = AuditEntry.Action(rawValue: text) else {
                    throw AuditAPI.badQuery("action must be one of \(AuditEntry.Action.allCases.map(\.rawValue).joined(separator: ", ")).")
                }
                self.action = action
            }
            for key in ["actor", "text"] {
                guard let value = parameters[key], !value.isEmpty else { continue }
                guard value.utf8.count <= AuditAPI.filterBytesMax else { throw AuditAPI.badQuery("\(key) must be at most \(AuditAPI.filterBytesMax) bytes.") }
                if key == "actor" { actor = value } else { text = value }
            }
            switch parameters["format"] ?? "" {
            case "", "json": csv = false
            case "csv": csv = true
            default: throw AuditAPI.badQuery("format must be json or csv.")
            }
        }

        func matches(_ entry: AuditEntry) -> Bool {
            if let action, entry.action != action { return false }
            if let actor, entry.actor.range(of: actor, options: .caseInsensitive) == nil { return false }
            if let text {
                let fields = [UTCTime.format(entry.at), entry.actor, entry.address, entry.action.rawValue, entry.object, entry.result]
                return fields.contains { $0.range(of: text, options: .caseInsensitive) != nil }
            }
            return true
        }
    }

    private func audit(_ request: HTTPRequest) {
        guard admin.authorized(request) else { return }
        request.handling {
            let query = try Query(request.query)
            guard !searching else { throw APIError.unavailable("Another audit query is under way; retry in a moment.") }
            searching = true
            let log = service.state.audit
            ThreadPoolWork.submit(on: loop, work: { () -> Data in
                let page = log.page(since: query.since, beforeId: query.beforeId, limit: query.limit, matching: query.matches)
                return query.csv ? Self.csv(page) : Self.json(page)
            }, completion: { [weak self] body in
                self?.searching = false
                let headers = query.csv
                    ? [("content-type", "text/csv; charset=utf-8"), ("content-disposition", "attachment; filename=\"lts-audit.csv\"")]
                    : [("content-type", "application/json")]
                request.respond(status: 200, headers: headers, body: body)
            })
        }
    }

    // MARK: Encoding

    static let columns = ["id", "at", "actor", "address", "action", "object", "result"]

    static func fields(_ id: Int64, _ entry: AuditEntry) -> [String] {
        [String(id), UTCTime.format(entry.at), entry.actor, entry.address, entry.action.rawValue, entry.object, entry.result]
    }

    static func json(_ page: [(id: Int64, entry: AuditEntry)]) -> Data {
        let rows = page.map { row -> [String: Any] in
            var object: [String: Any] = Dictionary(uniqueKeysWithValues: zip(columns, fields(row.id, row.entry)).map { ($0, $1 as Any) })
            object["id"] = row.id
            return object
        }
        return (try? JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("[]".utf8)
    }

    /// RFC 4180 CSV: CRLF line ends, every field quoted (a quote doubled).
    /// A field a spreadsheet would take for a formula (starting with `=`,
    /// `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, so
    /// that an actor or object an outsider chose cannot run as one.
    static func csv(_ page: [(id: Int64, entry: AuditEntry)]) -> Data {
        var text = columns.map(quote).joined(separator: ",") + "\r\n"
        for row in page {
            text += fields(row.id, row.entry).enumerated().map { index, field in
                quote(index == 0 ? field : defused(field))
            }.joined(separator: ",") + "\r\n"
        }
        return Data(text.utf8)
    }

    static func quote(_ field: String) -> String {
        "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func defused(_ field: String) -> String {
        guard let first = field.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return field }
        return "'" + field
    }
}
