import Foundation
import LTSTestSupport
import Platform
import Transport
import XCTest

/// The SMTP client against a real SMTP server (aiosmtpd) on loopback: what
/// arrives, and what an operator reads when it does not.
final class SMTPClientTests: XCTestCase {
    private let waitSeconds = 20.0

    private func alert(subject: String = "Usage alert: Designer at 90 %", to: [String] = ["ops@lts.example"],
                       bodyLines: [String] = ["Designer: 45 of 50 seats in use.", ".a line that starts with a dot"]) -> MailMessage {
        MailMessage(from: "alerts@lts.example", to: to, subject: subject, bodyLines: bodyLines)
    }

    /// Runs `send` and returns the SMTPError it threw.
    private func sendError(_ client: SMTPClient, _ message: MailMessage, file: StaticString = #filePath,
                           line: UInt = #line) -> SMTPError? {
        do {
            try client.send(message)
            XCTFail("the send succeeded", file: file, line: line)
            return nil
        } catch let error as SMTPError {
            return error
        } catch {
            XCTFail("not an SMTPError: \(error)", file: file, line: line)
            return nil
        }
    }

    /// A loopback port nobody listens on: bound to learn a free one, then closed.
    private func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let port: Int = try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(fd, raw, length) == 0, getsockname(fd, raw, &length) == 0 else {
                    throw TransportError("cannot bind a loopback port: errno \(errno)")
                }
                return Int(UInt16(bigEndian: pointer.pointee.sin_port))
            }
        }
        return port
    }

    func testSTARTTLSWithAuthDeliversTheMessageToEveryRecipient() throws {
        let server = try SMTPTestServer(security: .starttls, auth: (user: "alice", password: "s3cret"))
        let client = SMTPClient(settings: try server.settings(username: "alice", password: "s3cret"))
        try client.send(alert(to: ["ops@lts.example", "boss@lts.example"]))
        let mail = try server.waitForMessages(count: 1, timeout: waitSeconds)
        XCTAssertEqual(mail.count, 1)
        XCTAssertEqual(mail[0].mailFrom, "alerts@lts.example")
        XCTAssertEqual(mail[0].rcptTos, ["ops@lts.example", "boss@lts.example"])
        XCTAssertEqual(mail[0].subject, "Usage alert: Designer at 90 %")
        XCTAssertEqual(mail[0].body, "Designer: 45 of 50 seats in use.\n.a line that starts with a dot\n")
        XCTAssertEqual(mail[0].authUser, "alice")
        XCTAssertTrue(mail[0].tls)
        XCTAssertEqual(server.stop(), 0, "the server exits cleanly on SIGTERM")
    }

    func testImplicitTLSDelivers() throws {
        let server = try SMTPTestServer(security: .tls, auth: (user: "alice", password: "s3cret"))
        try SMTPClient(settings: try server.settings(username: "alice", password: "s3cret")).send(alert())
        let mail = try server.waitForMessages(count: 1, timeout: waitSeconds)
        XCTAssertTrue(mail[0].tls)
        XCTAssertEqual(mail[0].authUser, "alice")
        XCTAssertEqual(mail[0].rcptTos, ["ops@lts.example"])
    }

    func testWrongPasswordIsRefusedWith535() throws {
        let server = try SMTPTestServer(security: .starttls, auth: (user: "alice", password: "s3cret"))
        let client = SMTPClient(settings: try server.settings(username: "alice", password: "wrong"))
        let error = try XCTUnwrap(sendError(client, alert()))
        XCTAssertEqual(error.cause, .authentication)
        XCTAssertEqual(error.responseCode, 535)
        XCTAssertTrue(error.description.contains("535"), error.description)
        XCTAssertTrue(error.description.contains("127.0.0.1:\(server.port)"), error.description)
        XCTAssertEqual(server.received, [])
    }

    func testACAFileThatDoesNotMatchFailsVerification() throws {
        let server = try SMTPTestServer(security: .starttls)
        let other = NSTemporaryDirectory() + "lts-smtp-other-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: other) }
        try SelfSignedCertificate.ensure(certificatePath: other + "/cert.pem", keyPath: other + "/key.pem", hostNames: ["127.0.0.1"])
        let client = SMTPClient(settings: try server.settings(caFile: other + "/cert.pem"))
        let error = try XCTUnwrap(sendError(client, alert()))
        XCTAssertEqual(error.cause, .tlsVerification, error.description)
        XCTAssertTrue(error.description.contains("certificate"), error.description)
        XCTAssertEqual(server.received, [])
    }

    func testASilentServerTimesOut() throws {
        let server = try SMTPTestServer(security: .starttls, hang: true)
        let client = SMTPClient(settings: try server.settings(timeoutMs: 1_000, connectTimeoutMs: 500))
        let error = try XCTUnwrap(sendError(client, alert()))
        XCTAssertEqual(error.cause, .timeout, error.description)
        XCTAssertTrue(error.description.contains("127.0.0.1:\(server.port)"), error.description)
    }

    func testNothingListeningIsAConnectError() throws {
        let port = try closedPort()
        let client = SMTPClient(settings: try SMTPSettings(host: "127.0.0.1", port: port, from: "alerts@lts.example"))
        let error = try XCTUnwrap(sendError(client, alert()))
        XCTAssertEqual(error.cause, .cannotConnect, error.description)
        XCTAssertTrue(error.description.contains("127.0.0.1:\(port)"), error.description)
    }

    func testARefusedRecipientIsReportedWithTheServersReply() throws {
        let server = try SMTPTestServer(security: .starttls, failRecipients: true)
        let error = try XCTUnwrap(sendError(SMTPClient(settings: try server.settings()), alert()))
        XCTAssertEqual(error.cause, .recipientRefused, error.description)
        XCTAssertEqual(error.responseCode, 550)
        XCTAssertTrue(error.description.contains("550 5.1.1 Recipient refused"), error.description)
    }

    func testAServerWithoutSTARTTLSIsNotUsedInClear() throws {
        let server = try SMTPTestServer(security: .none)
        let settings = try SMTPSettings(host: "127.0.0.1", port: server.port, security: .starttls, from: "alerts@lts.example",
                                        caFile: server.caFile)
        let error = try XCTUnwrap(sendError(SMTPClient(settings: settings), alert()))
        XCTAssertEqual(error.cause, .tlsUnavailable, error.description)
        XCTAssertEqual(server.received, [])
    }

    func testPlainSMTPWithoutAuthDelivers() throws {
        let server = try SMTPTestServer(security: .none)
        try SMTPClient(settings: try server.settings()).send(alert())
        let mail = try server.waitForMessages(count: 1, timeout: waitSeconds)
        XCTAssertFalse(mail[0].tls)
        XCTAssertNil(mail[0].authUser)
    }

    func testHeaderInjectionInTheSubjectIsRefusedBeforeConnecting() throws {
        // Nothing listens on the port: had the client connected first, the
        // error would be `.cannotConnect`.
        let port = try closedPort()
        let client = SMTPClient(settings: try SMTPSettings(host: "127.0.0.1", port: port, from: "alerts@lts.example"))
        let error = try XCTUnwrap(sendError(client, alert(subject: "Alert\r\nBcc: everyone@example.com")))
        XCTAssertEqual(error.cause, .invalidMessage, error.description)
        XCTAssertTrue(error.description.contains("line break"), error.description)
    }

    func testANonASCIISubjectAndBodyArriveIntact() throws {
        let subject = "Nutzung über 90 % — ライセンス「Designer」は残り5席です 🚀 Ünïcödé"
        let server = try SMTPTestServer(security: .starttls)
        try SMTPClient(settings: try server.settings()).send(alert(subject: subject, bodyLines: ["Grüße aus Köln", "✓ done"]))
        let mail = try server.waitForMessages(count: 1, timeout: waitSeconds)
        XCTAssertEqual(mail[0].subject, subject)
        XCTAssertEqual(mail[0].body, "Grüße aus Köln\n✓ done\n")
    }

    func testSeveralMessagesArriveInOrder() throws {
        let server = try SMTPTestServer(security: .starttls)
        let client = SMTPClient(settings: try server.settings())
        for index in 1...3 { try client.send(alert(subject: "alert \(index)")) }
        let mail = try server.waitForMessages(count: 3, timeout: waitSeconds)
        XCTAssertEqual(mail.map(\.subject), ["alert 1", "alert 2", "alert 3"])
    }
}
