import LicenseState
import Replication

/// A copy of a simulated store's log and checkpoint, as the bytes a snapshot
/// travels in: the counterpart of the SQLite backup file.
///
/// Invariant: `decode(encode())` gives the same snapshot; `decode` refuses
/// any other bytes.
struct SimulatedSnapshot: Equatable {
    var log: [SimulatedEntry]
    var checkpointLsn: UInt64
    var compactedLsn: UInt64

    init(of store: DurableStore) {
        log = store.log
        checkpointLsn = store.checkpointLsn
        compactedLsn = store.compactedLsn
    }

    func encode() -> [UInt8] {
        var writer = BinaryWriter()
        writer.unsigned(checkpointLsn)
        writer.unsigned(compactedLsn)
        writer.unsigned(UInt64(log.count))
        for entry in log {
            writer.unsigned(entry.term)
            // The low bit tells a plain entry (0) from one followed by its record.
            writer.unsigned(entry.id << 1 | (entry.isPlain ? 0 : 1))
            if !entry.isPlain { writer.data(LogRecordCodec.encode(entry.record)) }
        }
        return writer.bytes
    }

    init(decoding bytes: [UInt8]) throws {
        var reader = BinaryReader(bytes)
        checkpointLsn = try reader.unsigned()
        compactedLsn = try reader.unsigned()
        let count = try reader.unsigned()
        log = try (0..<count).map { index in
            let term = try reader.unsigned(), tagged = try reader.unsigned()
            let record = tagged & 1 == 1 ? try LogRecordCodec.decode(try reader.data()) : nil
            return SimulatedEntry(lsn: index + 1, term: term, id: tagged >> 1, record: record)
        }
        guard reader.isAtEnd, compactedLsn <= checkpointLsn, checkpointLsn <= count else { throw BinaryReader.Malformed() }
    }

    /// The term history of the snapshot's log.
    var history: TermHistory {
        var history = TermHistory()
        for entry in log { history.append(lsn: entry.lsn, term: entry.term) }
        return history
    }
}
