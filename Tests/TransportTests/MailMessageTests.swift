import Foundation
@testable import Platform
import XCTest

final class MailMessageTests: XCTestCase {
    private func text(_ message: MailMessage) throws -> String {
        String(decoding: try message.rfc5322Data(date: Date(timeIntervalSince1970: 0), messageID: "id@lts.example"), as: UTF8.self)
    }

    private func refusal(_ message: MailMessage) -> SMTPError? {
        do {
            _ = try message.rfc5322Data()
            return nil
        } catch {
            return error as? SMTPError
        }
    }

    func testAnASCIIMessageIsFormattedExactly() throws {
        let message = MailMessage(from: "alerts@lts.example", to: ["ops@lts.example", "boss@lts.example"],
                                  subject: "Usage alert", bodyLines: ["Line one", "", "Line two\nLine three"])
        XCTAssertEqual(try text(message), [
            "Date: Thu, 01 Jan 1970 00:00:00 +0000",
            "Message-ID: <id@lts.example>",
            "From: alerts@lts.example",
            "To: ops@lts.example,",
            " boss@lts.example",
            "Subject: Usage alert",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "",
            "Line one",
            "",
            "Line two",
            "Line three",
            "",
        ].joined(separator: "\r\n"))
    }

    func testEveryLineEndsInCRLF() throws {
        let message = MailMessage(from: "a@b.example", to: ["c@d.example"], subject: "s", bodyLines: ["x\r\ny\rz\n", "é"])
        let bytes = Array(try message.rfc5322Data())
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            XCTAssertEqual(bytes[index - 1], UInt8(ascii: "\r"), "a bare LF at byte \(index)")
        }
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\r") {
            XCTAssertEqual(bytes[index + 1], UInt8(ascii: "\n"), "a bare CR at byte \(index)")
        }
        XCTAssertTrue(try text(message).hasSuffix("\r\n\r\nx\r\ny\r\nz\r\n\r\né\r\n"))
    }

    func testTheMessageIDIsRandomAtTheSendersDomain() throws {
        let message = MailMessage(from: "a@b.example", to: ["c@d.example"], subject: "s", bodyLines: [])
        let ids = try (0..<2).map { _ in
            String(decoding: try message.rfc5322Data(), as: UTF8.self).components(separatedBy: "\r\n")
                .first { $0.hasPrefix("Message-ID: <") }
        }
        XCTAssertNotEqual(ids[0], ids[1])
        XCTAssertTrue(ids[0]?.hasSuffix("@b.example>") == true, ids[0] ?? "no Message-ID")
    }

    func testANonASCIISubjectBecomesEncodedWordsOfWholeCharacters() throws {
        let subject = "Nutzung über 90 % — ライセンス「Designer」は残り5席です 🚀"
        let message = MailMessage(from: "a@b.example", to: ["c@d.example"], subject: subject, bodyLines: [])
        let encoded = message.encodedSubject
        let words = encoded.components(separatedBy: "\r\n ")
        XCTAssertGreaterThan(words.count, 1)
        var decoded = Data()
        for word in words {
            XCTAssertLessThanOrEqual(word.count, 75, word)
            XCTAssertTrue(word.hasPrefix("=?utf-8?B?") && word.hasSuffix("?="), word)
            let chunk = try XCTUnwrap(Data(base64Encoded: String(word.dropFirst(10).dropLast(2))))
            XCTAssertNotNil(String(data: chunk, encoding: .utf8), "a word splits a character: \(word)")
            decoded += chunk
        }
        XCTAssertEqual(String(decoding: decoded, as: UTF8.self), subject)
        XCTAssertTrue(try text(message).contains("Subject: =?utf-8?B?"))
    }

    func testAnASCIISubjectThatLooksEncodedIsEncoded() {
        let message = MailMessage(from: "a@b.example", to: ["c@d.example"], subject: "=?utf-8?B?SGk=?=", bodyLines: [])
        XCTAssertEqual(message.encodedSubject, "=?utf-8?B?PT91dGYtOD9CP1NHaz0/PQ==?=")
    }

    func testHeaderInjectionIsRefused() {
        let injected = [
            MailMessage(from: "a@b.example", to: ["c@d.example"], subject: "Hi\r\nBcc: x@y.example", bodyLines: []),
            MailMessage(from: "a@b.example", to: ["c@d.example"], subject: "Hi\nBcc: x@y.example", bodyLines: []),
            MailMessage(from: "a@b.example", to: ["c@d.example"], subject: "Hi\rBcc: x@y.example", bodyLines: []),
            MailMessage(from: "a@b.example", to: ["c@d.example\r\nBcc: x@y.example"], subject: "Hi", bodyLines: []),
            MailMessage(from: "a@b.example\nBcc: x@y.example", to: ["c@d.example"], subject: "Hi", bodyLines: []),
        ]
        for message in injected {
            XCTAssertEqual(refusal(message)?.cause, .invalidMessage, "\(message)")
        }
        XCTAssertTrue(refusal(injected[0])?.description.contains("line break") == true)
        XCTAssertTrue(refusal(injected[3])?.description.contains("c@d.example??Bcc") == true, "the address is shown without its line break")
    }

    func testOtherMalformedMessagesAreRefused() {
        let cases: [(MailMessage, String)] = [
            (MailMessage(from: "a@b.example", to: [], subject: "s", bodyLines: []), "no recipient"),
            (MailMessage(from: "a@b.example", to: Array(repeating: "c@d.example", count: 101), subject: "s", bodyLines: []), "101 recipients"),
            (MailMessage(from: "a@b.example", to: ["c@d.example"], subject: "tab\tok but bell\u{7}", bodyLines: []), "control character"),
            (MailMessage(from: "a@b.example", to: ["c@d.example"], subject: String(repeating: "s", count: 257), bodyLines: []), "longer than 256"),
            (MailMessage(from: "a@b.example", to: ["c@d.example"], subject: "s", bodyLines: [String(repeating: "x", count: 999)]), "longer than 998"),
            (MailMessage(from: "a@b.example", to: ["c@d.example"], subject: "s", bodyLines: ["nul\u{0}"]), "NUL"),
        ]
        for (message, expected) in cases {
            let description = refusal(message)?.description
            XCTAssertTrue(description?.contains(expected) == true, "\(expected): \(description ?? "accepted")")
        }
    }

    func testALineOf998BytesIsAllowed() throws {
        let message = MailMessage(from: "a@b.example", to: ["c@d.example"], subject: "s", bodyLines: [String(repeating: "x", count: 998)])
        XCTAssertTrue(try text(message).hasSuffix(String(repeating: "x", count: 998) + "\r\n"))
    }
}
