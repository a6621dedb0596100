@testable import Transport
import XCTest

final class HTTP1ResponseReaderTests: XCTestCase {
    func testParsesSwitchingProtocolsHead() throws {
        let head = try XCTUnwrap(HTTP1ResponseReader.parseHead(Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: lts-echo/1\r\nConnection: upgrade".utf8)))
        XCTAssertEqual(head.status, 101)
        XCTAssertEqual(head.headers["upgrade"], "lts-echo/1")
    }

    func testRefusesMalformedHeads() {
        for text in ["", "HTTP/1.1", "HTTP/1.1 abc OK", "SMTP 220 hello", "HTTP/1.1 101 OK\r\nno colon here", "HTTP/1.1 999 x"] {
            XCTAssertNil(HTTP1ResponseReader.parseHead(Array(text.utf8)), text)
        }
    }

    func testFindsTheEndOfTheHead() {
        XCTAssertEqual(HTTP1ResponseReader.headEnd(Array("HTTP/1.1 101 x\r\n\r\nDATA".utf8)), 14)
        XCTAssertNil(HTTP1ResponseReader.headEnd(Array("HTTP/1.1 101 x\r\n".utf8)))
    }

    func testCutsKeepAliveResponsesAcrossChunks() throws {
        let stream = Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 404 No\r\ncontent-length: 2\r\n\r\n{}".utf8)
        var reader = HTTP1ResponseReader()
        var responses: [HTTP1ResponseReader.Response] = []
        for byte in stream { responses += try reader.feed([byte]) }
        XCTAssertEqual(responses.map(\.head.status), [200, 404])
        XCTAssertEqual(responses.map { String(decoding: $0.body, as: UTF8.self) }, ["hello", "{}"])
    }

    func testRefusesChunkedBodiesAndHugeHeads() {
        var chunked = HTTP1ResponseReader()
        XCTAssertThrowsError(try chunked.feed(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)))
        XCTAssertThrowsError(try chunked.feed(Array("HTTP/1.1 200 OK\r\n\r\n".utf8)), "the reader stays failed")
        var huge = HTTP1ResponseReader()
        XCTAssertThrowsError(try huge.feed(Array(repeating: 65, count: HTTP1ResponseReader.headBytesMax + 1)))
    }
}
