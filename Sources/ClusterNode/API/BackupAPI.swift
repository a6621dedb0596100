import Foundation
import Logging
import Platform
import Transport

/// `POST /dls/api/admin/backup` makes a consistent copy of the node's store
/// (on the primary or the standby) and answers its summary (a
/// `BackupSummary` and an `id`); `GET /dls/api/admin/backup/{id}?offset=N`
/// then answers the copy's bytes from `offset`, at most `chunkBytesMax` at
/// a time. `lts backup` uses both.
///
/// Invariants: the copy and every read of it run on the thread pool, never
/// on the loop; at most one copy is made at a time and one is kept, in
/// `backup/` of the data dir (mode 0600), until a newer one replaces it,
/// the last byte is read or `keptMs` pass without a read, or the node
/// stops (`close`: no timer outlives it, so the loop can end); every route
/// needs an admin session.
final class BackupAPI {
    static let chunkBytesMax = 4 << 20
    /// How long an unread copy is kept.
    static let keptMs: UInt64 = 10 * 60_000

    private let loop: EventLoop
    private let service: LicenseService
    private let admin: AdminAPI
    private let directory: String
    private let nodeUUID: String
    private let role: () -> String
    private let logger: Logger
    private var making = false
    private var kept: (id: String, file: String, summary: BackupSummary)?
    private var expiry: LoopTimer?
    private var closed = false

    init(loop: EventLoop, service: LicenseService, admin: AdminAPI, dataDir: String, nodeUUID: String, logger: Logger,
         role: @escaping () -> String) {
        self.loop = loop
        self.service = service
        self.admin = admin
        self.nodeUUID = nodeUUID
        self.logger = logger
        self.role = role
        directory = dataDir + "/backup"
        // Copies a stopped node left behind are of no use to anyone.
        try? FileManager.default.removeItem(atPath: directory)
    }

    var routes: [RouteSpec] {
        [
            ("POST", "/api/admin/backup", HTTPServer.Route(bodyLimitBytes: 4096) { [unowned self] in self.make($0) }),
            ("GET", "/api/admin/backup/{id}", HTTPServer.Route { [unowned self] in self.read($0) }),
        ]
    }

    static func unknownBackup() -> APIError {
        APIError(status: 404, code: -20610, message: "No backup has that ID here: it was read to its end, replaced by a newer one, or kept unread for 10 minutes. Ask for a new one.")
    }

    private func make(_ request: HTTPRequest) {
        guard admin.authorized(request) else { return }
        request.handling {
            guard !closed else { throw APIError.unavailable("This node is stopping.") }
            guard !making else { throw APIError.unavailable("A backup is being made on this node; retry when it is done.") }
            making = true
            discard()
            let id = Crypto.hex(Crypto.randomBytes(16))
            let file = directory + "/\(id).sqlite"
            let source = service.store.path
            let (directory, nodeUUID, role) = (self.directory, self.nodeUUID, self.role())
            let now = WallClock.nowSeconds()
            logger.notice("backup \(id) asked for from \(request.clientAddress): copying the store")
            ThreadPoolWork.submit(on: loop, work: { () -> Result<BackupSummary, Error> in
                Result {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                            attributes: [.posixPermissions: 0o700])
                    return try StoreBackup.make(from: source, to: file, nodeUUID: nodeUUID, role: role, now: now)
                }
            }, completion: { [unowned self] result in
                self.making = false
                request.handling {
                    let summary: BackupSummary
                    do {
                        summary = try result.get()
                    } catch {
                        DurableFile.remove(file)
                        self.logger.error("backup \(id) failed: \(error)")
                        throw APIError(status: 500, code: -20009, message: "The backup failed: \(error)")
                    }
                    guard !self.closed else {
                        DurableFile.remove(file)
                        throw APIError.unavailable("This node is stopping.")
                    }
                    self.keep(id: id, file: file, summary: summary)
                    self.logger.notice("backup \(id) made: lsn \(summary.lsn), term \(summary.term), \(summary.databaseBytes) bytes")
                    var object = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(summary)) as? [String: Any] ?? [:]
                    object["id"] = id
                    request.respondJSON(status: 201, object)
                }
            })
        }
    }

    private func read(_ request: HTTPRequest) {
        guard admin.authorized(request) else { return }
        request.handling {
            guard let kept, let id = request.parameters["id"], Crypto.constantTimeEqual(Array(id.utf8), Array(kept.id.utf8)) else {
                throw Self.unknownBackup()
            }
            guard let offset = UInt64(request.query["offset"] ?? "0"), offset <= kept.summary.databaseBytes else {
                throw APIError.badRequest("offset must be a byte position from 0 to \(kept.summary.databaseBytes).")
            }
            let length = Int(min(UInt64(Self.chunkBytesMax), kept.summary.databaseBytes - offset))
            let file = kept.file
            keep(id: kept.id, file: kept.file, summary: kept.summary)
            ThreadPoolWork.submit(on: loop, work: { () -> Result<Data, Error> in
                Result {
                    guard let handle = FileHandle(forReadingAtPath: file) else { throw BackupFailure("the copy is gone") }
                    defer { try? handle.close() }
                    try handle.seek(toOffset: offset)
                    return try handle.read(upToCount: length) ?? Data()
                }
            }, completion: { [unowned self] result in
                request.handling {
                    guard case .success(let bytes) = result, bytes.count == length else { throw Self.unknownBackup() }
                    if offset + UInt64(length) == self.kept?.summary.databaseBytes, self.kept?.file == file {
                        self.logger.notice("backup \(id) read to its end")
                        self.discard()
                    }
                    request.respond(status: 200, headers: [("content-type", "application/octet-stream")], body: bytes)
                }
            })
        }
    }

    /// The node stops: the kept copy goes, and none is kept from now on.
    func close() {
        closed = true
        discard()
    }

    /// Keeps the copy for `keptMs` from now.
    private func keep(id: String, file: String, summary: BackupSummary) {
        kept = (id, file, summary)
        expiry?.cancel()
        expiry = LoopTimer(loop: loop, delayMs: Self.keptMs) { [weak self] in self?.discard() }
    }

    private func discard() {
        expiry?.cancel()
        expiry = nil
        if let kept { DurableFile.remove(kept.file) }
        kept = nil
    }
}
