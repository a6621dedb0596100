import Replication
import XCTest

final class CRC32CTests: XCTestCase {
    /// The byte-at-a-time definition the sliced tables must agree with.
    private func reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }

    func testMatchesTheBitwiseDefinitionAtEveryLengthAndAlignment() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for start in 0..<9 {
            for end in stride(from: start, through: bytes.count, by: 7) {
                XCTAssertEqual(CRC32C.checksum(bytes[start..<end]), reference(Array(bytes[start..<end])), "\(start)..<\(end)")
            }
        }
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
    }

    func testFeedingInPartsGivesTheSameChecksum() {
        let bytes = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        for cut in [0, 1, 8, 13, 99, 100] {
            let crc = CRC32C.update(CRC32C.update(CRC32C.initial, bytes[..<cut]), bytes[cut...])
            XCTAssertEqual(CRC32C.finish(crc), CRC32C.checksum(bytes), "cut at \(cut)")
        }
        XCTAssertEqual(CRC32C.checksum("lts".utf8), CRC32C.checksum(Array("lts".utf8)), "a non-contiguous sequence")
    }
}
