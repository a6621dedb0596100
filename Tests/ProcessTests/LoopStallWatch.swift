import LTSTestSupport
import XCTest

/// Both nodes' event loops, watched over a stretch of a test: what their
/// metrics counted when the watch began, so that `assertNoStall` judges
/// only the stretch.
///
/// Invariant: a stall is a timer firing over 250 ms late (which counts time
/// other processes held the core too) or a loop turn of 50 ms of the loop
/// thread's CPU time or more (the node's own work): either fails.
struct LoopStallWatch {
    private let pair: NodePair
    private let lateBefore: [Double]
    private let overBudgetBefore: [Double]

    init(_ pair: NodePair) throws {
        self.pair = pair
        lateBefore = try pair.nodes.map { try $0.timerFiringsOver250MsLate() }
        overBudgetBefore = try pair.nodes.map { try $0.loopTurnsOverBudget().count }
    }

    /// Prints each node's figures since the watch began and fails the test
    /// on a stall; `during` names the stretch in the messages.
    func assertNoStall(during stretch: String, file: StaticString = #filePath, line: UInt = #line) throws {
        for (index, node) in pair.nodes.enumerated() {
            let late = try node.timerFiringsOver250MsLate() - lateBefore[index]
            let largestLag = try node.metrics()["lts_event_loop_lag_max_ms"] ?? -1
            let turns = try node.loopTurnsOverBudget()
            let overBudget = turns.count - overBudgetBefore[index]
            print("node \(index) \(stretch): \(Int(late)) timer firings over 250 ms late (largest lag since start \(Int(largestLag)) ms), "
                  + "\(Int(overBudget)) loop turns of 50 ms CPU or more (longest turn since start \(turns.longestMs) ms)")
            XCTAssertEqual(late, 0, "node \(index)'s loop was held over 250 ms \(stretch)", file: file, line: line)
            XCTAssertEqual(overBudget, 0, "node \(index)'s loop worked 50 ms or more in one turn \(stretch)", file: file, line: line)
        }
    }
}
