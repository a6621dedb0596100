import Foundation
import LicenseState
import XCTest

/// Strict parsing of license files and their canonical signed bytes.
final class LicenseFileTests: XCTestCase {
    private func assertMalformed(_ bytes: [UInt8], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let parsed = try LicenseFile.parse(bytes)
            XCTFail("\(label): parsed as \(parsed.licenseId), expected -20303", file: file, line: line)
        } catch let error as LicenseError {
            XCTAssertEqual(error.code, -20303, "\(label): \(error)", file: file, line: line)
            XCTAssertEqual(error.status, 422, label, file: file, line: line)
        } catch {
            XCTFail("\(label): unexpected error \(error)", file: file, line: line)
        }
    }

    /// A file with one item changed by `edit`.
    private func withItem(_ edit: (inout [String: Any]) -> Void, way: ChargeWay = .scan) -> [UInt8] {
        var item = Fixture.item("item-1", way: way)
        edit(&item)
        return Fixture.licenseBytes(items: [item])
    }

    private func withFile(_ edit: (inout [String: Any]) -> Void) -> [UInt8] {
        var object = Fixture.file(items: [Fixture.item("item-1")])
        edit(&object)
        return Fixture.bytes(object)
    }

    // MARK: Valid files

    func testParsesAValidFile() throws {
        let bytes = Fixture.licenseBytes(licenseId: "LIC-2026.001", organizationId: "acme_corp", boundTo: "*", items: [
            Fixture.item("scan-1", product: "barcode", way: .scan, quantity: 1000, edition: "pro"),
            Fixture.item("dev-1", product: "reader", way: .device, quantity: 10, activeWindow: "quarter"),
            Fixture.item("inst-1", product: "viewer", way: .concurrentInstance, quantity: 2, leaseSeconds: 600),
            Fixture.item("cdev-1", product: "editor", way: .concurrentDevice, quantity: 3),
            Fixture.item("dom-1", product: "web", way: .domain, quantity: 1_000_000_000_000),
        ])
        let file = try LicenseFile.parse(bytes)
        XCTAssertEqual(file.licenseId, "LIC-2026.001")
        XCTAssertEqual(file.alias, "Fixture license LIC-2026.001")
        XCTAssertEqual(file.organizationId, "acme_corp")
        XCTAssertEqual(file.boundTo, "*")
        XCTAssertNil(file.issuerKeyId)
        XCTAssertEqual(file.issuedAt, utc("2025-12-01T00:00:00Z"))
        XCTAssertEqual(file.signature, [UInt8](repeating: 0, count: 64))
        XCTAssertEqual(file.items.map(\.itemId), ["scan-1", "dev-1", "inst-1", "cdev-1", "dom-1"])
        XCTAssertEqual(file.items[0], LicenseItem(itemId: "scan-1", product: "barcode", edition: "pro", chargeWay: .scan, quantity: 1000,
                                                  startsAt: utc("2026-01-01T00:00:00Z"), expiresAt: utc("2027-01-01T00:00:00Z"),
                                                  activeWindow: nil, leaseSeconds: 180))
        XCTAssertEqual(file.items[1].activeWindow, .quarter)
        XCTAssertNil(file.items[1].edition)
        XCTAssertEqual(file.items[2].leaseSeconds, 600)
        XCTAssertEqual(file.items[3].leaseSeconds, LicenseItem.defaultLeaseSeconds)
        XCTAssertEqual(file.items[4].quantity, 1_000_000_000_000)
    }

    func testSmallQuantityIsANumberNotABoolean() throws {
        let file = try LicenseFile.parse(withItem { $0["quantity"] = 1 })
        XCTAssertEqual(file.items[0].quantity, 1)
        XCTAssertTrue(String(decoding: file.signedBytes, as: UTF8.self).contains("\"quantity\":1,"))
    }

    func testIssuerKeyIdIsOptional() throws {
        let file = try LicenseFile.parse(withFile { $0["issuerKeyId"] = "vendor-key.1" })
        XCTAssertEqual(file.issuerKeyId, "vendor-key.1")
    }

    func testDateOnlyTimesAreMidnight() throws {
        let file = try LicenseFile.parse(withItem { $0["startsAt"] = "2026-02-01"; $0["expiresAt"] = "2026-03-01" })
        XCTAssertEqual(file.items[0].startsAt, utc("2026-02-01T00:00:00Z"))
        XCTAssertEqual(file.items[0].expiresAt, utc("2026-03-01T00:00:00Z"))
    }

    // MARK: Malformed files

    func testNotJSON() {
        assertMalformed(Fixture.bytes("not json"), "text")
        assertMalformed([], "empty")
        assertMalformed(Fixture.bytes("[1, 2]"), "array")
        assertMalformed(Fixture.bytes("\"licenseId\""), "string")
        assertMalformed(Array(Fixture.bytes(Fixture.file(items: [Fixture.item("item-1")])).dropLast()), "truncated")
        assertMalformed([0xFF, 0xFE, 0x7B, 0x7D], "invalid UTF-8")
    }

    func testUnknownFields() {
        assertMalformed(withFile { $0["quantity"] = 5 }, "unknown top-level field")
        assertMalformed(withFile { $0["Signature"] = Fixture.signature }, "field names are case-sensitive")
        assertMalformed(withItem { $0["seats"] = 5 }, "unknown item field")
    }

    func testMissingFields() {
        for key in ["licenseId", "alias", "organizationId", "boundTo", "issuedAt", "items", "signature"] {
            assertMalformed(withFile { $0.removeValue(forKey: key) }, "missing \(key)")
        }
        for key in ["itemId", "product", "chargeWay", "quantity", "startsAt", "expiresAt"] {
            assertMalformed(withItem { $0.removeValue(forKey: key) }, "missing item \(key)")
        }
    }

    func testUnknownChargeWay() {
        assertMalformed(withItem { $0["chargeWay"] = "perpetual" }, "unknown chargeWay")
        assertMalformed(withItem { $0["chargeWay"] = "Scan" }, "chargeWay is case-sensitive")
        assertMalformed(withItem { $0["chargeWay"] = 1 }, "chargeWay as number")
    }

    func testActiveWindowRules() {
        assertMalformed(withItem({ $0.removeValue(forKey: "activeWindow") }, way: .device), "device without activeWindow")
        assertMalformed(withItem({ $0["activeWindow"] = "week" }, way: .device), "unknown activeWindow")
        assertMalformed(withItem { $0["activeWindow"] = "month" }, "activeWindow on a scan item")
        assertMalformed(withItem({ $0["activeWindow"] = "day" }, way: .concurrentInstance), "activeWindow on a concurrent item")
    }

    func testLeaseSecondsRules() {
        assertMalformed(withItem { $0["leaseSeconds"] = 60 }, "leaseSeconds on a scan item")
        assertMalformed(withItem({ $0["leaseSeconds"] = 9 }, way: .concurrentInstance), "leaseSeconds below 10")
        assertMalformed(withItem({ $0["leaseSeconds"] = 86_401 }, way: .concurrentDevice), "leaseSeconds above a day")
        XCTAssertNoThrow(try LicenseFile.parse(withItem({ $0["leaseSeconds"] = 10 }, way: .concurrentInstance)))
        XCTAssertNoThrow(try LicenseFile.parse(withItem({ $0["leaseSeconds"] = 86_400 }, way: .concurrentDevice)))
    }

    func testBadQuantities() {
        assertMalformed(withItem { $0["quantity"] = 1.5 }, "fractional quantity")
        assertMalformed(withItem { $0["quantity"] = 0 }, "zero quantity")
        assertMalformed(withItem { $0["quantity"] = -5 }, "negative quantity")
        assertMalformed(withItem { $0["quantity"] = 1_000_000_000_001 }, "quantity above the maximum")
        assertMalformed(withItem { $0["quantity"] = "10" }, "quantity as string")
        assertMalformed(withItem { $0["quantity"] = true }, "quantity as boolean")
    }

    func testFractionAnywhereIsRefused() {
        // The signed bytes cannot hold a fraction, whatever field it is in.
        assertMalformed(withFile { $0["issuedAt"] = 0.5 }, "fractional issuedAt")
    }

    func testBadDates() {
        assertMalformed(withItem { $0["expiresAt"] = "2026-13-01T00:00:00Z" }, "month 13")
        assertMalformed(withItem { $0["expiresAt"] = "2026-02-30T00:00:00Z" }, "February 30")
        assertMalformed(withItem { $0["expiresAt"] = "2026-06-01 00:00:00" }, "space instead of T, no Z")
        assertMalformed(withItem { $0["expiresAt"] = "2026-06-01T00:00:00+02:00" }, "offset")
        assertMalformed(withItem { $0["expiresAt"] = 1_780_000_000 }, "seconds instead of text")
        assertMalformed(withFile { $0["issuedAt"] = "yesterday" }, "bad issuedAt")
        assertMalformed(withItem { $0["startsAt"] = "2027-01-01T00:00:00Z" }, "startsAt equal to expiresAt")
        assertMalformed(withItem { $0["startsAt"] = "2027-06-01T00:00:00Z" }, "startsAt after expiresAt")
    }

    func testDuplicateItemIds() {
        assertMalformed(Fixture.licenseBytes(items: [Fixture.item("same"), Fixture.item("same", product: "other")]), "duplicate itemId")
    }

    func testItemListShape() {
        assertMalformed(Fixture.licenseBytes(items: []), "no items")
        assertMalformed(withFile { $0["items"] = Fixture.item("item-1") }, "items is an object")
        assertMalformed(withFile { $0["items"] = [Fixture.item("item-1"), "item-2"] }, "an item is a string")
    }

    func testBadSignature() {
        assertMalformed(withFile { $0["signature"] = Data(count: 63).base64EncodedString() }, "63-byte signature")
        assertMalformed(withFile { $0["signature"] = Data(count: 65).base64EncodedString() }, "65-byte signature")
        assertMalformed(withFile { $0["signature"] = "not base64 !!" }, "not base64")
        assertMalformed(withFile { $0["signature"] = "" }, "empty signature")
        assertMalformed(withFile { $0["signature"] = [0, 1] }, "signature as array")
    }

    func testBadIdentifiers() {
        assertMalformed(withFile { $0["licenseId"] = "has space" }, "space in licenseId")
        assertMalformed(withFile { $0["organizationId"] = "acme/corp" }, "slash in organizationId")
        assertMalformed(withFile { $0["organizationId"] = String(repeating: "a", count: 65) }, "organizationId over 64 bytes")
        assertMalformed(withItem { $0["itemId"] = "ümlaut" }, "non-ASCII itemId")
        assertMalformed(withItem { $0["product"] = "" }, "empty product")
        assertMalformed(withFile { $0["alias"] = String(repeating: "a", count: 257) }, "alias over 256 bytes")
        assertMalformed(withFile { $0["boundTo"] = 7 }, "boundTo as number")
    }

    func testTooLargeFile() {
        var bytes = Fixture.licenseBytes(items: [Fixture.item("item-1")])
        // Valid JSON padded with white space past the size limit.
        bytes += [UInt8](repeating: 0x20, count: LicenseFile.fileBytesMax)
        assertMalformed(bytes, "larger than 1 MiB")
    }

    // MARK: Canonical signed bytes

    func testSignedBytesAreCanonical() throws {
        let text = """
        {
          "signature": "\(Fixture.signature)",
          "items": [ { "startsAt": "2026-01-01T00:00:00Z", "quantity": 100, "product": "barcode",
                       "itemId": "scan-1", "expiresAt": "2027-01-01T00:00:00Z", "chargeWay": "scan" } ],
          "organizationId": "acme",
          "licenseId": "L-1",
          "issuedAt": "2025-12-01T00:00:00Z",
          "boundTo": "*",
          "alias": "Say \\"hi\\" / caf\\u00e9\\n"
        }
        """
        let file = try LicenseFile.parse(Fixture.bytes(text))
        let expected = #"{"alias":"Say \"hi\" / café\u000a","boundTo":"*","issuedAt":"2025-12-01T00:00:00Z","#
            + #""items":[{"chargeWay":"scan","expiresAt":"2027-01-01T00:00:00Z","itemId":"scan-1","product":"barcode","#
            + #""quantity":100,"startsAt":"2026-01-01T00:00:00Z"}],"licenseId":"L-1","organizationId":"acme"}"#
        XCTAssertEqual(String(decoding: file.signedBytes, as: UTF8.self), expected)
        XCTAssertEqual(file.alias, "Say \"hi\" / café\n")
    }

    func testSignedBytesIgnoreKeyOrderAndWhiteSpace() throws {
        let compact = #"{"alias":"A","boundTo":"*","issuedAt":"2025-12-01T00:00:00Z","items":[{"chargeWay":"device","#
            + #""activeWindow":"month","expiresAt":"2027-01-01T00:00:00Z","itemId":"d","product":"p","quantity":5,"#
            + #""startsAt":"2026-01-01T00:00:00Z"}],"licenseId":"L","organizationId":"o","signature":"\#(Fixture.signature)"}"#
        let spread = """
        {\t"signature" : "\(Data(repeating: 7, count: 64).base64EncodedString())",
           "organizationId":"o",  "licenseId" : "L",
           "items" : [
              {"quantity" : 5, "startsAt":"2026-01-01T00:00:00Z", "product":"p", "itemId":"d",
               "expiresAt":"2027-01-01T00:00:00Z", "activeWindow":"month", "chargeWay":"device"}
           ],
           "issuedAt" : "2025-12-01T00:00:00Z", "boundTo" : "*", "alias" : "A"
        }\r\n
        """
        let a = try LicenseFile.parse(Fixture.bytes(compact))
        let b = try LicenseFile.parse(Fixture.bytes(spread))
        XCTAssertNotEqual(a.signature, b.signature)
        XCTAssertEqual(a.signedBytes, b.signedBytes, "the signature and the layout are not signed")
        XCTAssertEqual(a.items, b.items)
        XCTAssertFalse(a.signedBytes.contains(UInt8(ascii: " ")))
        XCTAssertFalse(String(decoding: a.signedBytes, as: UTF8.self).contains("signature"))
    }

    func testSignedBytesChangeWithAnyValue() throws {
        let base = try LicenseFile.parse(Fixture.licenseBytes(items: [Fixture.item("item-1", quantity: 100)]))
        let more = try LicenseFile.parse(Fixture.licenseBytes(items: [Fixture.item("item-1", quantity: 101)]))
        let rebound = try LicenseFile.parse(Fixture.licenseBytes(boundTo: Fixture.cluster, items: [Fixture.item("item-1", quantity: 100)]))
        XCTAssertNotEqual(base.signedBytes, more.signedBytes)
        XCTAssertNotEqual(base.signedBytes, rebound.signedBytes)
    }

    /// CanonicalJSON over what JSONSerialization parsed (how the module uses it).
    private func canonical(_ json: String) throws -> String? {
        let value = try JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])
        return CanonicalJSON.encode(value).map { String(decoding: $0, as: UTF8.self) }
    }

    func testCanonicalJSONEncoder() throws {
        XCTAssertEqual(try canonical(#"{ "b": 1, "a": [true, false, null], "B": "x" }"#), #"{"B":"x","a":[true,false,null],"b":1}"#)
        XCTAssertEqual(try canonical("[-42, 0, 1000000000000]"), "[-42,0,1000000000000]")
        XCTAssertEqual(try canonical(#"["tab\there\u0001", "\/"]"#), #"["tab\u0009here\u0001","/"]"#)
        XCTAssertEqual(try canonical(#"{"z": {"y": 1, "x": 2}}"#), #"{"z":{"x":2,"y":1}}"#)
        XCTAssertNil(try canonical(#"{"x": 0.25}"#))
        XCTAssertNil(try canonical("[1, 2.5]"))
    }
}
