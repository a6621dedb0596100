@testable import ClusterNode
import XCTest

/// The lag is measured from each append to the flush that covers it.
final class ReplicationLagRecorderTests: XCTestCase {
    func testEachAppendIsMeasuredOnceByTheFlushThatCoversIt() {
        var recorder = ReplicationLagRecorder()
        recorder.appended(through: 10, atMs: 100)
        recorder.appended(through: 20, atMs: 104)
        recorder.flushed(through: 15, atMs: 107)
        XCTAssertEqual(recorder.summary, ["p50": 7, "p99": 7, "max": 7, "samples": 1])
        recorder.flushed(through: 20, atMs: 110)
        XCTAssertEqual(recorder.summary["samples"], 2)
        XCTAssertEqual(recorder.summary["max"], 7)
        XCTAssertEqual(recorder.summary["p50"], 7)
        recorder.flushed(through: 20, atMs: 500)
        XCTAssertEqual(recorder.summary["samples"], 2, "a flush that covers nothing new measures nothing")
    }

    func testAppendsOfALostStandbyAreForgotten() {
        var recorder = ReplicationLagRecorder()
        recorder.appended(through: 5, atMs: 0)
        recorder.forgetPending()
        recorder.flushed(through: 5, atMs: 10_000)
        XCTAssertEqual(recorder.summary, ["samples": 0])
    }

    func testOnlyTheNewestSamplesAreKept() {
        var recorder = ReplicationLagRecorder()
        for lsn in 1...UInt64(ReplicationLagRecorder.samplesMax + 10) {
            recorder.appended(through: lsn, atMs: lsn)
            recorder.flushed(through: lsn, atMs: lsn + (lsn <= 10 ? 1_000 : 1))
        }
        XCTAssertEqual(recorder.summary["samples"], UInt64(ReplicationLagRecorder.samplesMax))
        XCTAssertEqual(recorder.summary["max"], 1, "the ten slow samples were the oldest and are gone")
    }
}
