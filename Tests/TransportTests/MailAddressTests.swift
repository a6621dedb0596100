import Platform
import Transport
import XCTest

final class MailAddressTests: XCTestCase {
    func testPlainAddressesAreAccepted() {
        for address in ["a@b.example", "first.last+tag@sub.example.org", "o'brien@example.com", "root@mailhost",
                        "x_y-z@a-b.example", String(repeating: "l", count: 64) + "@example.com"] {
            XCTAssertNil(MailAddress.problem(address), address)
            XCTAssertTrue(MailAddress.isValid(address), address)
        }
    }

    func testEverythingButLocalAtDomainIsRefused() {
        let refused = [
            "", "no-at-sign", "a@@b.example", "a@b@c.example", "@b.example", "a@",
            "a b@c.example", "<a@b.example>", "Name <a@b.example>", "\"quoted\"@b.example", "(comment)a@b.example",
            "a@b.example\r\nBcc: x@y.example", "a@b.example\n", "a\t@b.example",
            ".a@b.example", "a.@b.example", "a..b@c.example",
            "a@-b.example", "a@b-.example", "a@b..example", "a@.b.example", "a@b.example.", "a@b_c.example",
            "a@[127.0.0.1]", "ä@b.example", "a@bü.example",
            String(repeating: "l", count: 65) + "@example.com",
            "a@" + String(repeating: "d", count: 64) + ".example",
        ]
        for address in refused {
            XCTAssertNotNil(MailAddress.problem(address), address)
        }
    }

    func testTheLengthLimitIs254Bytes() {
        let domain = Array(repeating: String(repeating: "d", count: 62), count: 4).joined(separator: ".")
        let longest = "ab@" + domain
        XCTAssertEqual(longest.utf8.count, 254)
        XCTAssertNil(MailAddress.problem(longest))
        XCTAssertEqual(MailAddress.problem("abc@" + domain), "is longer than 254 bytes")
    }
}
