import Foundation
import Platform

/// `log-mark` in the data dir: the last LSN this node knew durable, written
/// beside the database (about once a second while the log grows, and
/// before the log is cut back on purpose). A database deleted or replaced
/// by an older copy then starts with a log that ends before the mark, and
/// the node refuses to serve it unless told to accept the loss.
///
/// Invariant: the mark never exceeds an LSN this data dir held durably;
/// it is lowered before a truncation or discard, never after.
enum LogMark {
    static let fileName = "log-mark"
    /// Least time between two writes of the mark while the log grows.
    static let intervalMs: UInt64 = 1_000

    static func path(dataDir: String) -> String { dataDir + "/" + fileName }

    /// The LSN marked, or nil when there is no readable mark.
    static func read(dataDir: String) -> UInt64? {
        guard let data = FileManager.default.contents(atPath: path(dataDir: dataDir)) else { return nil }
        return UInt64(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Writes the mark durably; a failure (a full disk) leaves the older
    /// mark, which is lower: it can only miss a loss, never invent one.
    static func write(dataDir: String, lsn: UInt64) {
        try? DurableFile.write(Data("\(lsn)\n".utf8), to: path(dataDir: dataDir), mode: 0o600)
    }
}

/// A node refused to start on data it would lose records with (see
/// `LogMark`); the text says what to do.
public struct DataLossRefusal: Error, CustomStringConvertible {
    public let description: String
}
