@testable import Transport
import XCTest

final class UpgradeClientTests: XCTestCase {
    func testParsesSwitchingProtocolsHead() throws {
        let head = try XCTUnwrap(UpgradeClient.parseHead(Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: lts-echo/1\r\nConnection: upgrade".utf8)))
        XCTAssertEqual(head.status, 101)
        XCTAssertEqual(head.headers["upgrade"], "lts-echo/1")
    }

    func testRefusesMalformedHeads() {
        for text in ["", "HTTP/1.1", "HTTP/1.1 abc OK", "SMTP 220 hello", "HTTP/1.1 101 OK\r\nno colon here", "HTTP/1.1 999 x"] {
            XCTAssertNil(UpgradeClient.parseHead(Array(text.utf8)), text)
        }
    }

    func testFindsTheEndOfTheHead() {
        XCTAssertEqual(UpgradeClient.headEnd(Array("HTTP/1.1 101 x\r\n\r\nDATA".utf8)), 14)
        XCTAssertNil(UpgradeClient.headEnd(Array("HTTP/1.1 101 x\r\n".utf8)))
    }
}
