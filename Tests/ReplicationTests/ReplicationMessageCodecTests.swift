import LicenseState
import Replication
import XCTest

/// `ReplicationMessageCodec`: every message survives encode → frame bytes →
/// decode, and payloads that break a rule are refused, never guessed at.
final class ReplicationMessageCodecTests: XCTestCase {
    private static let history: TermHistory = {
        var history = TermHistory()
        for lsn in 1...3 as ClosedRange<UInt64> { history.append(lsn: lsn, term: 1) }
        for lsn in 4...9 as ClosedRange<UInt64> { history.append(lsn: lsn, term: 4) }
        return history
    }()

    private static let entries = [
        ReplicatedEntry(lsn: 8, term: 4, payload: [1, 2, 3]),
        ReplicatedEntry(lsn: 9, term: 4, payload: []),
        ReplicatedEntry(lsn: 10, term: 6, payload: Array(repeating: 0xAB, count: 300)),
    ]

    /// One of each message, with values that need long varints.
    private static let messages: [ReplicationMessage] = [
        .hello(term: 6, session: .max, nodeIndex: 1, history: history),
        .hello(term: 0, session: 0, nodeIndex: 0, history: TermHistory()),
        .append(term: 6, session: 1 << 40, prevLsn: 7, prevTerm: 4, entries: entries, commitLsn: 7),
        .append(term: 6, session: 3, prevLsn: 9, prevTerm: 4, entries: [], commitLsn: 9),
        .heartbeat(term: 6, session: 0, commitLsn: .max, sentLsn: 12),
        .ack(term: 6, session: 77, flushedLsn: 300),
        .heartbeat(term: 6, session: 2, commitLsn: 3, sentLsn: 4, sentAtMs: 1 << 40),
        .ack(term: 6, session: 77, flushedLsn: 300, heardAtMs: 1 << 41),
        .diverged(term: 8, session: 5, matchLsn: 0),
        // Reconciliation entries are the records after a divergence point: increasing, not necessarily contiguous.
        .reconcile(term: 8, session: 5, entries: [ReplicatedEntry(lsn: 4, term: 2, payload: [9]), ReplicatedEntry(lsn: 9, term: 3, payload: [8])]),
        .reconcile(term: 8, session: 5, entries: []),
        .reconciled(term: 8, session: 5, throughLsn: 41),
        .reconcile(term: 8, session: 5, entries: [ReplicatedEntry(lsn: 4, term: 2, payload: [9])], round: 1 << 35),
        .reconciled(term: 8, session: 5, throughLsn: 41, round: 1 << 35),
        .handover(term: 9, session: 6, lastLsn: 40),
        .snapshotChunk(term: 9, session: 6, id: .max, offset: 1 << 33, totalBytes: (1 << 33) + 3, bytes: [1, 2, 3]),
        .snapshotAck(term: 9, session: 6, receivedBytes: 1 << 33),
    ]

    func testEveryMessageRoundTripsThroughFrameBytes() throws {
        var decoder = FrameDecoder()
        for message in Self.messages {
            let frames = try decoder.feed(ReplicationMessageCodec.encode(message).encoded())
            XCTAssertEqual(frames.count, 1)
            XCTAssertEqual(try ReplicationMessageCodec.decode(frames[0]), message)
        }
    }

    func testEveryMessageTypeHasAFrameType() {
        let types = Set(Self.messages.map { ReplicationMessageCodec.encode($0).type })
        XCTAssertEqual(types, Set((1...8).map { UInt8($0) } + [12, 13]))
    }

    // MARK: Malformed payloads

    func testASnapshotChunkOutsideItsSnapshotOrEmptyIsRefused() {
        for (offset, total, bytes) in [(UInt64(8), UInt64(10), [UInt8](repeating: 1, count: 3)), (11, 10, [1]), (0, 10, [])] {
            let frame = ReplicationMessageCodec.encode(.snapshotChunk(term: 1, session: 1, id: 1, offset: offset, totalBytes: total, bytes: bytes))
            XCTAssertThrowsError(try ReplicationMessageCodec.decode(frame), "offset \(offset) total \(total) count \(bytes.count)")
        }
    }

    func testTrailingBytesAreRefusedForEveryMessage() {
        for message in Self.messages {
            let frame = ReplicationMessageCodec.encode(message)
            XCTAssertThrowsError(try ReplicationMessageCodec.decode(Frame(type: frame.type, payload: frame.payload + [0])),
                                 "\(message)")
        }
    }

    func testTruncatedPayloadsAreRefusedForEveryMessage() {
        for message in Self.messages {
            let frame = ReplicationMessageCodec.encode(message)
            XCTAssertThrowsError(try ReplicationMessageCodec.decode(Frame(type: frame.type, payload: frame.payload.dropLast())),
                                 "\(message)")
        }
    }

    /// The witness's times came after the first version: a pair without a
    /// witness sends (and reads) the messages as they were, and a time is
    /// either there or not, never an explicit 0.
    func testTheWitnessTimesAreLeftOutWhenZeroAndNeverWrittenAsZero() throws {
        let plain = ReplicationMessageCodec.encode(.heartbeat(term: 6, session: 2, commitLsn: 3, sentLsn: 4))
        XCTAssertEqual(plain.payload, [6, 2, 3, 4], "the first version's bytes")
        XCTAssertEqual(try ReplicationMessageCodec.decode(plain), .heartbeat(term: 6, session: 2, commitLsn: 3, sentLsn: 4, sentAtMs: 0))
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(Frame(type: plain.type, payload: plain.payload + [0])))
        let ack = ReplicationMessageCodec.encode(.ack(term: 6, session: 2, flushedLsn: 3))
        XCTAssertEqual(ack.payload, [6, 2, 3])
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(Frame(type: ack.type, payload: ack.payload + [0])))
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(Frame(type: ack.type, payload: ack.payload + [5, 5])), "trailing bytes")
    }

    func testAReconciliationRoundIsLeftOutWhenZeroAndNeverWrittenAsZero() throws {
        let reconcile = ReplicationMessageCodec.encode(.reconcile(term: 6, session: 2, entries: []))
        XCTAssertEqual(reconcile.payload, [6, 2, 0], "protocol 2's bytes")
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(Frame(type: reconcile.type, payload: reconcile.payload + [0])))
        XCTAssertEqual(try ReplicationMessageCodec.decode(Frame(type: reconcile.type, payload: reconcile.payload + [3])),
                       .reconcile(term: 6, session: 2, entries: [], round: 3))
        let reconciled = ReplicationMessageCodec.encode(.reconciled(term: 6, session: 2, throughLsn: 9))
        XCTAssertEqual(reconciled.payload, [6, 2, 9], "protocol 2's bytes")
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(Frame(type: reconciled.type, payload: reconciled.payload + [0])))
        XCTAssertEqual(ReplicationMessageCodec.encode(.reconciled(term: 6, session: 2, throughLsn: 9, round: 3)).payload, [6, 2, 9, 3])
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(Frame(type: reconciled.type, payload: reconciled.payload + [3, 3])),
                             "trailing bytes")
    }

    func testUnknownFrameTypesAreRefused() {
        let payload = ReplicationMessageCodec.encode(.ack(term: 1, session: 1, flushedLsn: 1)).payload
        for type: UInt8 in [0, 9, 12, 255] {
            XCTAssertThrowsError(try ReplicationMessageCodec.decode(Frame(type: type, payload: payload)), "type \(type)")
        }
    }

    /// An append payload: term 2, session 1, the given previous position, commit 0, then the entries.
    private func appendFrame(prevLsn: UInt64, prevTerm: UInt64, entries: [(lsn: UInt64, term: UInt64)]) -> Frame {
        var writer = BinaryWriter()
        for field in [2, 1, prevLsn, prevTerm, 0, UInt64(entries.count)] { writer.unsigned(field) }
        for entry in entries {
            writer.unsigned(entry.lsn)
            writer.unsigned(entry.term)
            writer.data([7])
        }
        return Frame(type: ReplicationMessageCodec.FrameType.append.rawValue, payload: writer.bytes)
    }

    func testAppendEntriesMustFollowThePreviousEntryContiguously() throws {
        XCTAssertNoThrow(try ReplicationMessageCodec.decode(appendFrame(prevLsn: 5, prevTerm: 2, entries: [(6, 2), (7, 2)])))
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(appendFrame(prevLsn: 5, prevTerm: 2, entries: [(7, 2)])), "a gap after prev")
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(appendFrame(prevLsn: 5, prevTerm: 2, entries: [(6, 2), (8, 2)])), "a gap")
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(appendFrame(prevLsn: 5, prevTerm: 2, entries: [(6, 2), (6, 2)])), "a repeat")
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(appendFrame(prevLsn: 5, prevTerm: 2, entries: [(5, 2)])), "before prev")
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(appendFrame(prevLsn: 5, prevTerm: 2, entries: [(6, 3), (7, 2)])), "term goes back")
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(appendFrame(prevLsn: 0, prevTerm: 0, entries: [(1, 0)])), "term 0")
    }

    func testReconcileEntriesMustIncrease() {
        func reconcile(_ entries: [(lsn: UInt64, term: UInt64)]) -> Frame {
            var writer = BinaryWriter()
            for field in [2, 1, UInt64(entries.count)] { writer.unsigned(field) }
            for entry in entries {
                writer.unsigned(entry.lsn)
                writer.unsigned(entry.term)
                writer.data([])
            }
            return Frame(type: ReplicationMessageCodec.FrameType.reconcile.rawValue, payload: writer.bytes)
        }
        XCTAssertNoThrow(try ReplicationMessageCodec.decode(reconcile([(3, 1), (9, 2)])))
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(reconcile([(9, 2), (3, 1)])), "lsn goes back")
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(reconcile([(3, 2), (9, 1)])), "term goes back")
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(reconcile([(0, 1)])), "lsn 0")
    }

    func testAnEntryCountAboveTheLimitIsRefusedBeforeReading() {
        var writer = BinaryWriter()
        for field in [2, 1, UInt64(ReplicationMessageCodec.entriesMax) + 1] { writer.unsigned(field) }
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(Frame(type: ReplicationMessageCodec.FrameType.reconcile.rawValue,
                                                                      payload: writer.bytes)))
    }

    /// A hello payload: term 2, session 1, node 0, then the history fields.
    private func helloFrame(nodeIndex: UInt64 = 0, lastLsn: UInt64, starts: [(term: UInt64, lsn: UInt64)]) -> Frame {
        var writer = BinaryWriter()
        for field in [2, 1, nodeIndex, lastLsn, UInt64(starts.count)] { writer.unsigned(field) }
        for start in starts {
            writer.unsigned(start.term)
            writer.unsigned(start.lsn)
        }
        return Frame(type: ReplicationMessageCodec.FrameType.hello.rawValue, payload: writer.bytes)
    }

    func testAHelloWithAnImpossibleHistoryIsRefused() {
        XCTAssertNoThrow(try ReplicationMessageCodec.decode(helloFrame(lastLsn: 9, starts: [(1, 1), (4, 4)])))
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(helloFrame(lastLsn: 9, starts: [(1, 2)])), "starts after lsn 1")
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(helloFrame(lastLsn: 9, starts: [(4, 1), (1, 4)])), "term goes back")
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(helloFrame(lastLsn: 3, starts: [(1, 1), (4, 4)])), "start past the end")
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(helloFrame(lastLsn: 3, starts: [])), "entries without terms")
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(helloFrame(nodeIndex: 2, lastLsn: 0, starts: [])), "a third node")
    }

    func testAHelloWithMoreStartsThanTheLimitIsRefusedBeforeReading() {
        var writer = BinaryWriter()
        for field in [2, 1, 0, 1, UInt64(TermHistory.startsMax) + 1] { writer.unsigned(field) }
        XCTAssertThrowsError(try ReplicationMessageCodec.decode(Frame(type: ReplicationMessageCodec.FrameType.hello.rawValue,
                                                                      payload: writer.bytes)))
    }
}
