import Foundation
import LicenseClient
import XCTest

/// Reports no server took wait in a file: they survive a reload, leave it
/// once delivered, age out after `maxAgeSeconds`, and the file is bounded.
final class ReportBufferTests: XCTestCase {
    private var path = ""

    override func setUp() {
        path = NSTemporaryDirectory() + "lts-buffer-\(UUID().uuidString)/reports.jsonl"
    }

    func testReportsSurviveAReloadAndLeaveOnceDelivered() throws {
        let buffer = try ReportBuffer(path: path)
        try buffer.append(BufferedReport(requestId: "a", scans: 2, grantId: "g", at: 100))
        try buffer.append(BufferedReport(requestId: "b", scans: 1, grantId: nil, at: 200))
        let reloaded = try ReportBuffer(path: path)
        XCTAssertEqual(reloaded.pending.map(\.requestId), ["a", "b"])
        XCTAssertEqual(reloaded.pending.first, BufferedReport(requestId: "a", scans: 2, grantId: "g", at: 100))
        try reloaded.remove(["a"])
        XCTAssertEqual(try ReportBuffer(path: path).pending.map(\.requestId), ["b"])
    }

    func testOldReportsAreDroppedAndCounted() throws {
        let buffer = try ReportBuffer(path: path, maxAgeSeconds: 1_000)
        try buffer.append(BufferedReport(requestId: "old", scans: 1, grantId: nil, at: 0))
        try buffer.append(BufferedReport(requestId: "new", scans: 1, grantId: nil, at: 900))
        XCTAssertEqual(try buffer.deliverable(now: 1_500).map(\.requestId), ["new"])
        XCTAssertEqual(buffer.expiredTotal, 1)
        XCTAssertEqual(try ReportBuffer(path: path).pending.map(\.requestId), ["new"])
    }

    func testAFullBufferRefusesMore() throws {
        let buffer = try ReportBuffer(path: path, maxEntries: 2)
        try buffer.append(BufferedReport(requestId: "a", scans: 1, grantId: nil, at: 1))
        try buffer.append(BufferedReport(requestId: "b", scans: 1, grantId: nil, at: 1))
        XCTAssertThrowsError(try buffer.append(BufferedReport(requestId: "c", scans: 1, grantId: nil, at: 1)))
        XCTAssertEqual(try ReportBuffer(path: path).count, 2)
    }

    func testADamagedFileIsRefused() throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data("{\"requestId\":\"a\",\"scans\":1,\"at\":1}\nnot json\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ReportBuffer(path: path))
    }
}
