@testable import ClusterNode
import Foundation
import Logging
import XCTest

final class JSONLogHandlerTests: XCTestCase {
    /// The lines a handler writes for `body`, read back through a pipe.
    private func lines(_ body: (inout JSONLogHandler) -> Void) throws -> [[String: Any]] {
        let pipe = Pipe()
        var handler = JSONLogHandler(label: "test", output: pipe.fileHandleForWriting.fileDescriptor, metadataProvider: nil)
        body(&handler)
        try pipe.fileHandleForWriting.close()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(text.hasSuffix("\n"))
        return try text.split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], String($0))
        }
    }

    func testMetadataIsFlattenedUnderMetaAndTheCallWins() throws {
        let written = try lines { handler in
            handler[metadataKey: "node"] = "main"
            handler[metadataKey: "peer"] = "old"
            handler.log(event: LogEvent(level: .warning, message: "line\n\"two\"\u{1}", metadata: [
                "peer": "https://b/", "lag": .stringConvertible(12), "ids": ["a", "b"], "tls": ["expires": "soon"],
            ], source: "t", file: #fileID, function: #function, line: #line))
            handler.log(event: LogEvent(level: .info, message: "plain", metadata: nil, source: "t", file: #fileID, function: #function, line: #line))
        }
        XCTAssertEqual(written.count, 2)
        XCTAssertEqual(written[0]["level"] as? String, "warning")
        XCTAssertEqual(written[0]["label"] as? String, "test")
        XCTAssertEqual(written[0]["message"] as? String, "line\n\"two\"\u{1}")
        let meta = try XCTUnwrap(written[0]["meta"] as? [String: Any])
        XCTAssertEqual(meta["node"] as? String, "main")
        XCTAssertEqual(meta["peer"] as? String, "https://b/")
        XCTAssertEqual(meta["lag"] as? String, "12")
        XCTAssertEqual(meta["ids"] as? [String], ["a", "b"])
        XCTAssertEqual(meta["tls.expires"] as? String, "soon")
        XCTAssertEqual((written[1]["meta"] as? [String: Any])?["node"] as? String, "main", "the handler's own metadata is on every line")
    }
}
