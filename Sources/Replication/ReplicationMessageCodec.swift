import WireFormat

/// Replication messages as frames: the frame type names the message, the
/// payload holds its fields in `BinaryWriter` form.
///
/// Invariant: `decode(encode(m)) == m`; `decode` refuses unknown types,
/// trailing bytes, out-of-order entries and impossible histories.
public enum ReplicationMessageCodec {
    /// Frame types. 1–8, 12 and 13 are the messages; 9, 10 and 11 are the
    /// stream's authentication (see `ReplicationHandshake` in the node).
    public enum FrameType: UInt8 {
        case hello = 1, append, heartbeat, ack, diverged, reconcile, reconciled, handover
        case snapshotChunk = 12, snapshotAck
    }

    /// Most entries one message may carry.
    public static let entriesMax = 65_536

    public static func encode(_ message: ReplicationMessage) -> Frame {
        var writer = BinaryWriter()
        writer.unsigned(message.term)
        writer.unsigned(message.session)
        let type: FrameType
        switch message {
        case .hello(_, _, let nodeIndex, let history):
            type = .hello
            writer.unsigned(UInt64(nodeIndex))
            write(history, into: &writer)
        case .append(_, _, let prevLsn, let prevTerm, let entries, let commitLsn):
            type = .append
            writer.unsigned(prevLsn)
            writer.unsigned(prevTerm)
            writer.unsigned(commitLsn)
            write(entries, into: &writer)
        case .heartbeat(_, _, let commitLsn, let sentLsn, let sentAtMs):
            type = .heartbeat
            writer.unsigned(commitLsn)
            writer.unsigned(sentLsn)
            writeOptional(sentAtMs, into: &writer)
        case .ack(_, _, let flushedLsn, let heardAtMs):
            type = .ack
            writer.unsigned(flushedLsn)
            writeOptional(heardAtMs, into: &writer)
        case .diverged(_, _, let matchLsn):
            type = .diverged
            writer.unsigned(matchLsn)
        case .reconcile(_, _, let entries, let round):
            type = .reconcile
            write(entries, into: &writer)
            writeOptional(round, into: &writer)
        case .reconciled(_, _, let throughLsn, let round):
            type = .reconciled
            writer.unsigned(throughLsn)
            writeOptional(round, into: &writer)
        case .handover(_, _, let lastLsn):
            type = .handover
            writer.unsigned(lastLsn)
        case .snapshotChunk(_, _, let id, let offset, let totalBytes, let bytes):
            type = .snapshotChunk
            writer.unsigned(id)
            writer.unsigned(offset)
            writer.unsigned(totalBytes)
            writer.data(bytes)
        case .snapshotAck(_, _, let receivedBytes):
            type = .snapshotAck
            writer.unsigned(receivedBytes)
        }
        return Frame(type: type.rawValue, payload: writer.bytes)
    }

    public static func decode(_ frame: Frame) throws -> ReplicationMessage {
        guard let type = FrameType(rawValue: frame.type) else { throw BinaryReader.Malformed() }
        var reader = BinaryReader(frame.payload)
        let term = try reader.unsigned()
        let session = try reader.unsigned()
        let message: ReplicationMessage
        switch type {
        case .hello:
            let nodeIndex = try reader.unsigned()
            guard nodeIndex <= 1 else { throw BinaryReader.Malformed() }
            message = .hello(term: term, session: session, nodeIndex: Int(nodeIndex), history: try readHistory(&reader))
        case .append:
            let prevLsn = try reader.unsigned()
            let prevTerm = try reader.unsigned()
            let commitLsn = try reader.unsigned()
            let entries = try readEntries(&reader, after: prevLsn)
            message = .append(term: term, session: session, prevLsn: prevLsn, prevTerm: prevTerm, entries: entries, commitLsn: commitLsn)
        case .heartbeat:
            message = .heartbeat(term: term, session: session, commitLsn: try reader.unsigned(), sentLsn: try reader.unsigned(),
                                 sentAtMs: try readOptional(&reader))
        case .ack:
            message = .ack(term: term, session: session, flushedLsn: try reader.unsigned(), heardAtMs: try readOptional(&reader))
        case .diverged:
            message = .diverged(term: term, session: session, matchLsn: try reader.unsigned())
        case .reconcile:
            message = .reconcile(term: term, session: session, entries: try readEntries(&reader, after: nil), round: try readOptional(&reader))
        case .reconciled:
            message = .reconciled(term: term, session: session, throughLsn: try reader.unsigned(), round: try readOptional(&reader))
        case .handover:
            message = .handover(term: term, session: session, lastLsn: try reader.unsigned())
        case .snapshotChunk:
            let id = try reader.unsigned()
            let offset = try reader.unsigned()
            let totalBytes = try reader.unsigned()
            let bytes = try reader.data()
            // A chunk lies inside its snapshot and carries something.
            guard !bytes.isEmpty, offset <= totalBytes, UInt64(bytes.count) <= totalBytes - offset else { throw BinaryReader.Malformed() }
            message = .snapshotChunk(term: term, session: session, id: id, offset: offset, totalBytes: totalBytes, bytes: bytes)
        case .snapshotAck:
            message = .snapshotAck(term: term, session: session, receivedBytes: try reader.unsigned())
        }
        guard reader.isAtEnd else { throw BinaryReader.Malformed() }
        return message
    }

    /// A trailing field added to a message after its first version (a
    /// witness's times, a reconciliation round's number): left out when 0,
    /// so that a pair without a witness, or a peer that reads no round,
    /// gets the bytes nodes without the field read.
    private static func writeOptional(_ value: UInt64, into writer: inout BinaryWriter) {
        if value != 0 { writer.unsigned(value) }
    }

    /// Reads what `writeOptional` wrote: 0 when the message ends first.
    private static func readOptional(_ reader: inout BinaryReader) throws -> UInt64 {
        guard !reader.isAtEnd else { return 0 }
        let value = try reader.unsigned()
        guard value != 0 else { throw BinaryReader.Malformed() }
        return value
    }

    /// A term history as hellos and checkpoints store it.
    public static func write(_ history: TermHistory, into writer: inout BinaryWriter) {
        writer.unsigned(history.lastLsn)
        writer.unsigned(UInt64(history.starts.count))
        for start in history.starts {
            writer.unsigned(start.term)
            writer.unsigned(start.lsn)
        }
    }

    /// Reads what `write(_:into:)` wrote, refusing an impossible history.
    public static func readHistory(_ reader: inout BinaryReader) throws -> TermHistory {
        let lastLsn = try reader.unsigned()
        let count = try reader.unsigned()
        guard count <= UInt64(TermHistory.startsMax) else { throw BinaryReader.Malformed() }
        let starts = try (0..<count).map { _ in TermHistory.Start(term: try reader.unsigned(), lsn: try reader.unsigned()) }
        guard let history = TermHistory(starts: starts, lastLsn: lastLsn) else { throw BinaryReader.Malformed() }
        return history
    }

    private static func write(_ entries: [ReplicatedEntry], into writer: inout BinaryWriter) {
        writer.unsigned(UInt64(entries.count))
        for entry in entries {
            writer.unsigned(entry.lsn)
            writer.unsigned(entry.term)
            writer.data(entry.payload)
        }
    }

    /// Entries with strictly increasing LSNs (contiguous after `after` when
    /// given) and terms that never go back.
    private static func readEntries(_ reader: inout BinaryReader, after: UInt64?) throws -> [ReplicatedEntry] {
        let count = try reader.unsigned()
        guard count <= UInt64(entriesMax) else { throw BinaryReader.Malformed() }
        var entries: [ReplicatedEntry] = []
        var previous: (lsn: UInt64, term: UInt64)? = after.map { ($0, 0) }
        for _ in 0..<count {
            let lsn = try reader.unsigned()
            let term = try reader.unsigned()
            let payload = try reader.data()
            guard lsn >= 1, term >= 1 else { throw BinaryReader.Malformed() }
            if let previous {
                guard lsn > previous.lsn, term >= previous.term else { throw BinaryReader.Malformed() }
                if after != nil { guard lsn == previous.lsn + 1 else { throw BinaryReader.Malformed() } }
            }
            previous = (lsn, term)
            entries.append(ReplicatedEntry(lsn: lsn, term: term, payload: payload))
        }
        return entries
    }
}
