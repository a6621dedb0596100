import Platform
import Transport
import XCTest

/// Sealed secrets open under their key only, and not after any change.
final class SecretBoxTests: XCTestCase {
    let box = SecretBox(key: Array(repeating: 7, count: SecretBox.keyBytes))

    func testSealedSecretsOpenUnderTheirKey() throws {
        for secret in ["", "p", "correct horse battery staple ü", String(repeating: "x", count: 1000)] {
            let sealed = box.seal(Array(secret.utf8))
            XCTAssertEqual(sealed.count, 1 + 12 + secret.utf8.count + 16)
            XCTAssertEqual(box.open(sealed).map { String(decoding: $0, as: UTF8.self) }, secret)
            XCTAssertNotEqual(box.seal(Array(secret.utf8)), sealed, "a fresh nonce every time")
        }
    }

    func testAnotherKeyOrAnyChangedByteIsRefused() {
        let sealed = box.seal(Array("smtp-password".utf8))
        XCTAssertNil(SecretBox(key: Array(repeating: 8, count: SecretBox.keyBytes)).open(sealed))
        for index in sealed.indices {
            var changed = sealed
            changed[index] ^= 1
            XCTAssertNil(box.open(changed), "byte \(index) changed")
        }
        XCTAssertNil(box.open(Array(sealed.dropLast())))
        XCTAssertNil(box.open([]))
    }
}
