import Foundation

/// One plain-text mail (a usage alert) and its RFC 5322 form.
///
/// Invariant: `rfc5322Data` either refuses the message or returns a header
/// block whose lines are exactly the ones written here: no caller string
/// reaches it with a CR or LF (addresses pass `MailAddress`, a subject with a
/// line break is refused as header injection), every line ends in CRLF and
/// none is longer than `lineBytesMax`.
public struct MailMessage: Equatable {
    /// The most recipients one message may have.
    public static let recipientsMax = 100
    /// The longest subject, in UTF-8 bytes before encoding.
    public static let subjectBytesMax = 256
    /// The longest line RFC 5322 allows, CRLF not counted.
    public static let lineBytesMax = 998
    /// The largest body, in UTF-8 bytes with CRLF line ends.
    public static let bodyBytesMax = 1 << 20
    /// The most UTF-8 bytes in one RFC 2047 encoded-word: its base64 (60
    /// characters) plus "=?utf-8?B?" and "?=" stays within the 75 allowed.
    static let encodedWordBytesMax = 45

    /// The From header (the envelope sender comes from `SMTPSettings.from`).
    public let from: String
    /// The To header and the envelope recipients.
    public let to: [String]
    public let subject: String
    /// The text, one string per line; a line break inside a string starts a new line.
    public let bodyLines: [String]

    public init(from: String, to: [String], subject: String, bodyLines: [String]) {
        self.from = from
        self.to = to
        self.subject = subject
        self.bodyLines = bodyLines
    }

    /// The message as sent after DATA: headers, a blank line and the body,
    /// all with CRLF line ends, UTF-8 text sent as 8bit. Lines starting with
    /// "." are not doubled here: libcurl dot-stuffs SMTP uploads itself (and
    /// ends DATA with CRLF "." CRLF), so doing it here would double the dots.
    /// - Parameters:
    ///   - date: the Date header.
    ///   - messageID: the Message-ID without brackets; by default random
    ///     hex at the sender's domain.
    /// - Throws: `SMTPError` with cause `.invalidMessage`.
    public func rfc5322Data(date: Date = Date(), messageID: String? = nil) throws -> Data {
        if let problem { throw SMTPError(.invalidMessage, "The mail cannot be sent: \(problem).") }
        let domain = from[from.index(after: from.lastIndex(of: "@")!)...]
        let head = [
            "Date: \(Self.rfc5322Date(date))",
            "Message-ID: <\(messageID ?? Self.randomID() + "@" + domain)>",
            "From: \(from)",
            "To: \(to.joined(separator: ",\r\n "))",
            "Subject: \(encodedSubject)",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
        ]
        let text = (head + [""] + textLines).map { $0 + "\r\n" }.joined()
        return Data(text.utf8)
    }

    /// Why the message cannot be written, or nil. `SMTPClient` asks before
    /// it connects.
    var problem: String? {
        if let problem = MailAddress.problem(from) { return "the sender address \"\(printable(from))\" \(problem)" }
        if to.isEmpty { return "it has no recipient" }
        if to.count > Self.recipientsMax { return "it has \(to.count) recipients, more than \(Self.recipientsMax)" }
        for address in to {
            if let problem = MailAddress.problem(address) { return "the recipient address \"\(printable(address))\" \(problem)" }
        }
        if subject.contains(where: { $0.isNewline }) { return "the subject contains a line break, which would inject headers" }
        if subject.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            return "the subject contains a control character"
        }
        if subject.utf8.count > Self.subjectBytesMax { return "the subject is longer than \(Self.subjectBytesMax) bytes" }
        let lines = textLines
        if lines.contains(where: { $0.utf8.count > Self.lineBytesMax }) { return "a body line is longer than \(Self.lineBytesMax) bytes" }
        if lines.contains(where: { $0.utf8.contains(0) }) { return "the body contains a NUL character" }
        if lines.reduce(0, { $0 + $1.utf8.count + 2 }) > Self.bodyBytesMax { return "the body is larger than \(Self.bodyBytesMax) bytes" }
        return nil
    }

    /// `bodyLines` split at every CRLF, CR or LF inside them.
    private var textLines: [String] {
        bodyLines.flatMap { entry in
            entry.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
                .flatMap { $0.split(separator: "\r", omittingEmptySubsequences: false) }.map(String.init)
        }
    }

    /// The subject as is when it is printable ASCII that cannot be mistaken
    /// for an encoded-word, else RFC 2047 base64 encoded-words of whole
    /// Unicode scalars, folded one per line.
    var encodedSubject: String {
        let plain = subject.utf8.allSatisfy { ($0 >= 0x20 && $0 < 0x7F) || $0 == UInt8(ascii: "\t") }
        if plain, !subject.contains("=?") { return subject }
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in subject.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > Self.encodedWordBytesMax {
                words.append(Self.encodedWord(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append(Self.encodedWord(chunk)) }
        return words.joined(separator: "\r\n ")
    }

    private static func encodedWord(_ bytes: [UInt8]) -> String {
        "=?utf-8?B?\(Data(bytes).base64EncodedString())?="
    }

    /// An address for an error message: line breaks and other controls shown as "?".
    private func printable(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
    }

    /// "Tue, 09 Apr 2024 22:53:20 +0000" (RFC 5322 §3.3), in UTC.
    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }

    /// 128 random bits as hex: unique without any state.
    private static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in String(generator.next() as UInt64, radix: 16) }.joined(separator: ".")
    }
}
