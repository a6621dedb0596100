@testable import Replication
import XCTest

final class FrameDecoderTests: XCTestCase {
    func testCRC32CMatchesTheStandardCheckValue() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
    }

    func testFramesSurviveBeingFedOneByteAtATime() throws {
        let frames = [Frame(type: 1, payload: Array("hello".utf8)), Frame(type: 7, payload: []), Frame(type: 255, payload: [0, 1, 2])]
        let bytes = frames.flatMap { $0.encoded() }
        var decoder = FrameDecoder()
        var decoded: [Frame] = []
        for byte in bytes { decoded += try decoder.feed([byte]) }
        XCTAssertEqual(decoded, frames)
    }

    func testSeveralFramesInOneChunk() throws {
        let frames = (0..<50).map { Frame(type: UInt8($0), payload: Array(repeating: UInt8($0), count: $0 * 10)) }
        var decoder = FrameDecoder()
        XCTAssertEqual(try decoder.feed(frames.flatMap { $0.encoded() }), frames)
    }

    func testACorruptByteIsRefusedAndTheDecoderStaysFailed() {
        var bytes = Frame(type: 3, payload: Array("grant".utf8)).encoded()
        bytes[6] ^= 0x01
        var decoder = FrameDecoder()
        XCTAssertThrowsError(try decoder.feed(bytes)) { XCTAssertEqual($0 as? FrameDecoder.Failure, .checksumMismatch) }
        XCTAssertThrowsError(try decoder.feed(Frame(type: 1, payload: []).encoded()))
    }

    func testAnOversizedLengthIsRefusedBeforeBuffering() {
        var decoder = FrameDecoder()
        XCTAssertThrowsError(try decoder.feed([0x7F, 0xFF, 0xFF, 0xFF])) {
            XCTAssertEqual($0 as? FrameDecoder.Failure, .frameTooLarge(bytes: 0x7FFF_FFFF))
        }
    }

    func testAZeroLengthIsRefused() {
        var decoder = FrameDecoder()
        XCTAssertThrowsError(try decoder.feed([0, 0, 0, 0, 0, 0, 0, 0])) { XCTAssertEqual($0 as? FrameDecoder.Failure, .emptyFrame) }
    }
}
