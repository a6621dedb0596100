@testable import ClusterNode
import Foundation
import LicenseState
import Platform
import Transport
import XCTest

/// Which alert settings are in effect: the portal's once saved, else the
/// file's; the sealed password opens only under the node's key; recipients
/// parse from a list or from text.
final class AlertConfigurationTests: XCTestCase {
    let box = SecretBox(key: Array(repeating: 1, count: SecretBox.keyBytes))

    func config(_ json: String) throws -> Config {
        try Config.parse(Data(json.utf8), baseDirectory: "/etc/lts")
    }

    func testTheFileAppliesUntilThePortalSavesSettings() throws {
        let file = try config(#"{"alerts": {"recipients": ["a@example.com"], "checkMinutes": 1}, "smtp": {"host": "mail.example.com", "username": "lts@example.com", "password": "p", "caFile": "ca.pem"}}"#)
        let fromFile = AlertConfiguration.resolve(state: LicenseState(), config: file, box: box)
        XCTAssertEqual(fromFile.source, .config)
        XCTAssertEqual(fromFile.recipients, ["a@example.com"])
        XCTAssertEqual(fromFile.checkMilliseconds, 60_000)
        XCTAssertTrue(fromFile.passwordSet)
        XCTAssertTrue(fromFile.canSend)
        let smtp = try XCTUnwrap(fromFile.smtp).get()
        XCTAssertEqual(smtp.from, "lts@example.com", "without a from, the user name when it is an address")
        XCTAssertEqual(smtp.caFile, "/etc/lts/ca.pem")

        var state = LicenseState()
        let saved = AlertSettings(recipients: ["b@example.com"], checkMilliseconds: 3_000, standbyLagMinutes: 2, mailServer: AlertSettings.MailServer(
            host: "smtp.example.org", port: 465, security: "tls", username: "u", sealedPassword: box.seal(Array("secret".utf8)), from: "x@example.org"))
        state.apply(.setAlertSettings(saved, at: 1))
        let fromPortal = AlertConfiguration.resolve(state: state, config: file, box: box)
        XCTAssertEqual(fromPortal.source, .portal)
        XCTAssertEqual(fromPortal.recipients, ["b@example.com"])
        let portalSMTP = try XCTUnwrap(fromPortal.smtp).get()
        XCTAssertEqual(portalSMTP.password, "secret")
        XCTAssertEqual(portalSMTP.security, .tls)
        XCTAssertEqual(portalSMTP.caFile, "/etc/lts/ca.pem", "the file's CA applies to the portal's server too")

        let otherKey = AlertConfiguration.resolve(state: state, config: file, box: SecretBox(key: Array(repeating: 2, count: SecretBox.keyBytes)))
        guard case .failure(let error) = try XCTUnwrap(otherKey.smtp) else { return XCTFail("a password sealed under another key opened") }
        XCTAssertTrue(error.description.contains("cannot be decrypted"), error.description)
        XCTAssertFalse(otherKey.canSend)

        XCTAssertEqual(AlertConfiguration.resolve(state: LicenseState(), config: try config("{}"), box: box).source, .none)
    }

    func testRecipientsParseFromTextOrAList() throws {
        XCTAssertEqual(try AlertsAPI.recipients("a@example.com; b@example.com, A@example.com ;"), ["a@example.com", "b@example.com"])
        XCTAssertEqual(try AlertsAPI.recipients(["c@example.com"]), ["c@example.com"])
        XCTAssertEqual(try AlertsAPI.recipients(nil), [])
        for bad: Any in ["ops", ["a@example.com", 5], 7, "a b@example.com"] {
            XCTAssertThrowsError(try AlertsAPI.recipients(bad), "\(bad)") { error in
                XCTAssertEqual((error as? APIError)?.code, -20500)
            }
        }
        let many = (0...AlertsAPI.recipientsMax).map { "r\($0)@example.com" }.joined(separator: ";")
        XCTAssertThrowsError(try AlertsAPI.recipients(many))
    }
}
