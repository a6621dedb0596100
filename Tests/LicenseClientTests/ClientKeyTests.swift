import LicenseClient
import XCTest

/// A client key reads back as written, and anything else is refused with a reason.
final class ClientKeyTests: XCTestCase {
    private let key = ClientKey(handshakeCode: "acme-1", servers: [
        ClientKey.Server(url: "https://main.example.com:48080/dls/", fingerprint: Array(repeating: 0xAB, count: 32)),
        ClientKey.Server(url: "https://standby.example.com:48081/dls/"),
    ])

    func testAKeyReadsBackAsWritten() throws {
        XCTAssertTrue(key.text.hasPrefix("lts1."))
        XCTAssertEqual(try ClientKey(parsing: key.text), key)
        XCTAssertEqual(try ClientKey(parsing: "  " + key.text + "\n"), key, "surrounding white space is no part of a key")
    }

    func testAnythingElseIsRefused() {
        let body = String(key.text.dropFirst(ClientKey.prefix.count))
        for bad in ["", "lts2." + body, "lts1.", "lts1.!!!", "lts1." + String(body.dropLast(4)), key.text + "x"] {
            XCTAssertThrowsError(try ClientKey(parsing: bad), "accepted \(bad)")
        }
        func encoded(_ json: String) -> String {
            ClientKey.prefix + Data(json.utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        XCTAssertNoThrow(try ClientKey(parsing: encoded(#"{"code":"c","servers":[{"url":"https://a/dls/"}]}"#)), "the helper builds valid keys")
        XCTAssertNoThrow(try ClientKey(parsing: encoded(#"{"code":"c","servers":[{"url":"https://a/","sha256":"\#(String(repeating: "ab", count: 32))"}]}"#)),
                         "a pinned https server")
        for json in [#"{"code":"","servers":[{"url":"https://a/dls/"}]}"#,
                     #"{"code":"c","servers":[]}"#,
                     #"{"code":"c","servers":[{"url":"https://a/"},{"url":"https://b/"},{"url":"https://c/"}]}"#,
                     #"{"code":"c","servers":[{"url":"https://a/"},{"url":"https://a/"}]}"#,
                     #"{"code":"c","servers":[{"url":"ftp://a/"}]}"#,
                     #"{"code":"c","servers":[{"url":"https://a/","sha256":"abcd"}]}"#,
                     #"{"code":"c","servers":[{"url":"http://a/","sha256":"\#(String(repeating: "ab", count: 32))"}]}"#,
                     #"{"code":"c","servers":[{"url":"https://a/","extra":1}]}"#,
                     #"{"code":"c","servers":[{"url":"https://a/"}],"more":true}"#] {
            XCTAssertThrowsError(try ClientKey(parsing: encoded(json)), "accepted \(json)")
        }
    }
}
