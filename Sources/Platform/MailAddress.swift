/// A strict check of the plain e-mail addresses lts sends to and from:
/// `local@domain`, ASCII only, no display names, comments, quotes, angle
/// brackets or address literals.
///
/// Invariant: an address `problem(_:)` accepts (returns nil) holds no byte
/// that could end an SMTP command or a header line (no CR, LF, space or
/// control character) and is at most `bytesMax` bytes, so it can go into
/// MAIL FROM, RCPT TO and the From/To headers as it is.
public enum MailAddress {
    /// The longest address RFC 5321 lets a path carry (256 with the brackets).
    public static let bytesMax = 254
    /// The longest local part (RFC 5321 §4.5.3.1.1).
    public static let localBytesMax = 64
    /// The longest domain label (RFC 1035).
    public static let labelBytesMax = 63

    /// Characters allowed in a local part besides letters, digits and dots
    /// (RFC 5322 `atext`, which has no quotes, brackets or spaces).
    private static let localSymbols = Set("!#$%&'*+-/=?^_`{|}~".utf8)

    /// True when `address` is a plain `local@domain` address.
    public static func isValid(_ address: String) -> Bool {
        problem(address) == nil
    }

    /// Why `address` is not a plain `local@domain` address, or nil when it is.
    /// - Returns: a phrase that completes "the address … ", e.g. "has no @".
    public static func problem(_ address: String) -> String? {
        let bytes = Array(address.utf8)
        guard !bytes.isEmpty else { return "is empty" }
        guard bytes.count <= bytesMax else { return "is longer than \(bytesMax) bytes" }
        guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return "contains a space, a control character or a non-ASCII character"
        }
        let parts = bytes.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false)
        guard parts.count == 2 else { return "must contain exactly one @" }
        if let problem = localProblem(Array(parts[0])) { return problem }
        return domainProblem(Array(parts[1]))
    }

    private static func localProblem(_ local: [UInt8]) -> String? {
        guard !local.isEmpty else { return "has nothing before the @" }
        guard local.count <= localBytesMax else { return "has more than \(localBytesMax) bytes before the @" }
        guard local.allSatisfy({ isLetterOrDigit($0) || $0 == UInt8(ascii: ".") || localSymbols.contains($0) }) else {
            return "has a quote, bracket or other character not allowed before the @"
        }
        let atoms = local.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard atoms.allSatisfy({ !$0.isEmpty }) else { return "has a dot at the start or end of its local part, or two dots in a row" }
        return nil
    }

    /// A host name of letters, digits and hyphens. A single label
    /// ("root@mailhost") is allowed: internal relays accept such domains.
    private static func domainProblem(_ domain: [UInt8]) -> String? {
        guard !domain.isEmpty else { return "has nothing after the @" }
        for label in domain.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty else { return "has an empty label in its domain" }
            guard label.count <= labelBytesMax else { return "has a domain label longer than \(labelBytesMax) bytes" }
            guard label.allSatisfy({ isLetterOrDigit($0) || $0 == UInt8(ascii: "-") }),
                  label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-") else {
                return "has a domain that is not a host name (letters, digits, inner hyphens)"
            }
        }
        return nil
    }

    private static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}
