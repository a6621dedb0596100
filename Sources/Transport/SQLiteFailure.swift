import CSQLite

/// An SQLite call that failed: its message and primary result code.
///
/// Invariant: `code` is one of SQLite's primary result codes (the low byte
/// of an extended one), never `SQLITE_OK`.
public struct SQLiteFailure: Error, CustomStringConvertible, Equatable {
    public let description: String
    public let code: Int32

    /// The disk (or the database's size limit) is full: SQLite rolled the
    /// transaction back, and the same work may succeed once space returns.
    public var isDiskFull: Bool { code == SQLITE_FULL }
}

extension Error {
    /// Whether this error says the store's disk is full.
    public var isDiskFull: Bool { (self as? SQLiteFailure)?.isDiskFull == true }
}
