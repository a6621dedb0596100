import Transport
import XCTest

/// The X-Forwarded-For rule: believed only from trusted proxies, read from
/// the right up to the first address that is no trusted proxy.
final class TrustedProxiesTests: XCTestCase {
    private let proxies = try! TrustedProxies(parsing: ["127.0.0.1", "10.0.0.0/8", "2001:db8::/32", "::1"])

    private func client(_ peer: String, _ headers: [String]) throws -> String {
        try proxies.clientAddress(peer: peer, forwardedFor: headers)
    }

    func testEntriesAreCIDRsOrBareAddresses() throws {
        let parsed = try TrustedProxies(parsing: ["192.168.1.7", "10.0.0.0/8", "0.0.0.0/0", "fd00::/8", "::1", "::ffff:10.0.0.0/104"])
        XCTAssertEqual(parsed.networks.map(\.description),
                       ["192.168.1.7/32", "10.0.0.0/8", "0.0.0.0/0", "fd00::/8", "::1/128", "10.0.0.0/8"])
        for bad in ["", "10.0.0.0/33", "10.1.2.3/8", "10.0.0/8", "example.com", "10.0.0.1:80", "[::1]", "fe80::1%eth0",
                    "10.0.0.0/", "10.0.0.0/+8", "::/129", "2001:db8::1/32", "::ffff:10.0.0.0/95", " 10.0.0.1"] {
            XCTAssertThrowsError(try TrustedProxies(parsing: ["127.0.0.1", bad]), "\"\(bad)\"") { error in
                XCTAssertEqual((error as? TrustedProxies.BadEntry)?.entry, bad)
            }
        }
        XCTAssertTrue(parsed.contains("10.200.3.4"))
        XCTAssertTrue(parsed.contains("::ffff:10.1.1.1"), "an IPv4-mapped peer is its IPv4 address")
        XCTAssertFalse(try TrustedProxies(parsing: ["10.0.0.0/8"]).contains("11.0.0.1"))
    }

    func testAnUntrustedPeerIsTheClientWhateverItSends() throws {
        XCTAssertEqual(try client("203.0.113.9", ["198.51.100.1"]), "203.0.113.9")
        XCTAssertEqual(try client("203.0.113.9", ["not an address, ::::"]), "203.0.113.9", "nothing of it is read")
        XCTAssertEqual(try TrustedProxies().clientAddress(peer: "127.0.0.1", forwardedFor: ["198.51.100.1"]), "127.0.0.1",
                       "no trusted proxies (the default): the peer")
    }

    func testATrustedPeerNamesTheRightMostUntrustedAddress() throws {
        XCTAssertEqual(try client("127.0.0.1", []), "127.0.0.1", "no header: the proxy itself (its own health check)")
        XCTAssertEqual(try client("127.0.0.1", ["198.51.100.1"]), "198.51.100.1")
        XCTAssertEqual(try client("127.0.0.1", ["198.51.100.66, 198.51.100.1"]), "198.51.100.1",
                       "the client's own forged entry on the left is not believed")
        XCTAssertEqual(try client("10.1.1.1", ["198.51.100.1, 10.2.2.2 ,10.3.3.3"]), "198.51.100.1", "a chain of trusted proxies")
        XCTAssertEqual(try client("127.0.0.1", ["198.51.100.66", "198.51.100.1, 10.2.2.2"]), "198.51.100.1",
                       "several headers are one list, in order")
        XCTAssertEqual(try client("127.0.0.1", ["10.9.9.9, 10.2.2.2"]), "10.9.9.9", "all trusted: the left-most")
        XCTAssertEqual(try client("127.0.0.1", ["junk, <script>, 198.51.100.1"]), "198.51.100.1",
                       "entries left of the client are never read, so junk there is no error")
    }

    func testIPv6AddressesAreMatchedAndWrittenCanonically() throws {
        XCTAssertEqual(try client("::1", ["2001:DB8:0:0:0:0:0:5, 2001:0db8::7"]), "2001:db8::5")
        XCTAssertEqual(try client("2001:db8::9", ["2a00:1450:0:0::1"]), "2a00:1450::1")
        XCTAssertEqual(try client("::ffff:127.0.0.1", ["::ffff:198.51.100.1"]), "198.51.100.1",
                       "a mapped IPv4 address is the IPv4 address, one key for the rate limiter")
        XCTAssertEqual(try client("127.0.0.1", ["2a00:1450::1, ::1"]), "2a00:1450::1")
    }

    func testATrustedProxysMalformedHeaderIsRefused() {
        for header in ["", "198.51.100.1,", "198.51.100.1, ", "unknown", "198.51.100.1:4711", "[2001:db8::5]", "198.51.100.1 10.0.0.1",
                       "fe80::1%eth0", "198.51.100.1,,10.0.0.1"] {
            XCTAssertThrowsError(try client("127.0.0.1", [header]), "\"\(header)\"") { error in
                XCTAssertTrue(error is TrustedProxies.MalformedHeader, "\(error)")
                XCTAssertTrue("\(error)".contains("trusted proxy 127.0.0.1"), "\(error)")
            }
        }
        let chain = Array(repeating: "10.0.0.1", count: TrustedProxies.hopsMax + 1).joined(separator: ",")
        XCTAssertThrowsError(try client("127.0.0.1", [chain]), "more trusted hops than hopsMax")
        XCTAssertEqual(try client("127.0.0.1", ["198.51.100.1, " + Array(repeating: "10.0.0.1", count: TrustedProxies.hopsMax - 1).joined(separator: ",")]),
                       "198.51.100.1")
    }
}
