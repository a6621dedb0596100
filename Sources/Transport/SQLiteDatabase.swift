import CSQLite
import CSQLiteShim
import Foundation
import Platform

/// A value bound to, or read from, an SQL statement.
public enum SQLiteValue: Equatable {
    case integer(Int64)
    case text(String)
    case blob([UInt8])
    case null

    public var integer: Int64? { if case .integer(let value) = self { return value } else { return nil } }
    public var text: String? { if case .text(let value) = self { return value } else { return nil } }
    public var blob: [UInt8]? { if case .blob(let value) = self { return value } else { return nil } }
}

/// One SQLite connection with a cache of prepared statements.
///
/// Invariant: the connection is used by one thread at a time (the owner
/// serializes: the loop, or one thread-pool job); statements are finalized
/// before the connection closes.
public final class SQLiteDatabase {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    public let path: String

    /// Opens (or, unless `readOnly`, creates) the database at `path`.
    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        var opened: OpaquePointer?
        let status = sqlite3_open_v2(path, &opened, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard status == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(opened)
            throw TransportError("cannot open the database \(path): \(message)")
        }
        handle = opened
        sqlite3_busy_timeout(opened, 5_000)
    }

    deinit { close() }

    /// Finalizes every statement and closes the connection.
    public func close() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements = [:]
        if let handle { sqlite3_close(handle) }
        handle = nil
    }

    /// Runs one or more statements that take no parameters.
    public func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &error)
        guard status == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(error)
            throw SQLiteFailure(description: "SQL failed in \(path): \(message)", code: status & 0xFF)
        }
    }

    /// Runs one statement with parameters and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> [[SQLiteValue]] {
        var rows: [[SQLiteValue]] = []
        try each(sql, parameters) { rows.append($0) }
        return rows
    }

    /// Runs one statement with parameters, calling `row` for every result row.
    public func each(_ sql: String, _ parameters: [SQLiteValue], row: ([SQLiteValue]) throws -> Void) throws {
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (index, value) in parameters.enumerated() { try bind(value, at: Int32(index + 1), in: statement) }
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else { throw failure(sql) }
            let count = sqlite3_column_count(statement)
            try row((0..<count).map { column(statement, $0) })
        }
    }

    /// Copies the whole database, as of one moment, into a new file at
    /// `path` (SQLite's online backup), which is then synced to disk.
    public func backup(to path: String) throws {
        DurableFile.remove(path)
        let destination = try SQLiteDatabase(path: path)
        guard let backup = sqlite3_backup_init(destination.handle, "main", handle, "main") else {
            throw TransportError("cannot back up \(self.path) to \(path): \(String(cString: sqlite3_errmsg(destination.handle)))")
        }
        let status = sqlite3_backup_step(backup, -1)
        sqlite3_backup_finish(backup)
        guard status == SQLITE_DONE else {
            throw TransportError("backup of \(self.path) to \(path) failed: \(String(cString: sqlite3_errstr(status)))")
        }
        // The copy keeps the source's WAL mode: checkpoint it into the file.
        try destination.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        destination.close()
    }

    /// Runs `body` inside BEGIN IMMEDIATE … COMMIT; rolls back when it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else { throw failure(sql) }
        statements[sql] = statement
        return statement
    }

    private func bind(_ value: SQLiteValue, at index: Int32, in statement: OpaquePointer) throws {
        let transient = unsafeBitCast(lts_sqlite_transient(), to: sqlite3_destructor_type.self)
        let status: Int32
        switch value {
        case .integer(let number): status = sqlite3_bind_int64(statement, index, number)
        case .text(let text): status = sqlite3_bind_text(statement, index, text, -1, transient)
        case .blob(let bytes): status = sqlite3_bind_blob(statement, index, bytes, Int32(bytes.count), transient)
        case .null: status = sqlite3_bind_null(statement, index)
        }
        guard status == SQLITE_OK else { throw failure("bind") }
    }

    private func column(_ statement: OpaquePointer, _ index: Int32) -> SQLiteValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, index)))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard count > 0, let bytes = sqlite3_column_blob(statement, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }

    private func failure(_ sql: String) -> SQLiteFailure {
        SQLiteFailure(description: "SQL failed in \(path): \(String(cString: sqlite3_errmsg(handle))) (\(sql.prefix(80)))",
                      code: sqlite3_extended_errcode(handle) & 0xFF)
    }
}
