import Platform
import Transport
import XCTest

final class SMTPSettingsTests: XCTestCase {
    private func refusal(_ make: () throws -> SMTPSettings) -> String? {
        do {
            _ = try make()
            return nil
        } catch let error as SMTPError {
            XCTAssertEqual(error.cause, .invalidSettings)
            return error.description
        } catch {
            return "\(error)"
        }
    }

    func testDefaults() throws {
        let settings = try SMTPSettings(host: "mail.example.com", from: "alerts@example.com")
        XCTAssertEqual(settings.security, .starttls)
        XCTAssertEqual(settings.port, 587)
        XCTAssertEqual(settings.timeoutMs, 15_000)
        XCTAssertEqual(settings.connectTimeoutMs, 5_000)
        XCTAssertEqual(settings.server, "mail.example.com:587")
        XCTAssertEqual(try SMTPSettings(host: "mail.example.com", security: .tls, from: "a@example.com").port, 465)
        XCTAssertEqual(try SMTPSettings(host: "::1", port: 25, security: .none, from: "a@example.com").server, "[::1]:25")
    }

    func testUnusableSettingsAreRefusedWithTheReason() {
        let cases: [(String, () throws -> SMTPSettings)] = [
            ("the host is empty", { try SMTPSettings(host: "", from: "a@example.com") }),
            ("is not a host name", { try SMTPSettings(host: "mail.example.com/x", from: "a@example.com") }),
            ("outside 1...65535", { try SMTPSettings(host: "h", port: 0, from: "a@example.com") }),
            ("outside 1...65535", { try SMTPSettings(host: "h", port: 65536, from: "a@example.com") }),
            ("would send the password in clear", {
                try SMTPSettings(host: "h", security: .none, username: "u", password: "p", from: "a@example.com")
            }),
            ("the sender address", { try SMTPSettings(host: "h", from: "Alerts <a@example.com>") }),
            ("the sender address", { try SMTPSettings(host: "h", from: "nobody") }),
            ("go together", { try SMTPSettings(host: "h", username: "u", from: "a@example.com") }),
            ("go together", { try SMTPSettings(host: "h", password: "p", from: "a@example.com") }),
            ("must be positive", { try SMTPSettings(host: "h", from: "a@example.com", timeoutMs: 0) }),
            ("longer than the whole time-out", {
                try SMTPSettings(host: "h", from: "a@example.com", timeoutMs: 1_000, connectTimeoutMs: 2_000)
            }),
        ]
        for (expected, make) in cases {
            let description = refusal(make)
            XCTAssertTrue(description?.contains(expected) == true, "\(expected): \(description ?? "accepted")")
        }
    }

    func testStartTLSAndTLSAcceptAPassword() throws {
        for security in [SMTPSecurity.starttls, .tls] {
            let settings = try SMTPSettings(host: "h", security: security, username: "u", password: "p", from: "a@example.com")
            XCTAssertEqual(settings.password, "p")
        }
    }
}
