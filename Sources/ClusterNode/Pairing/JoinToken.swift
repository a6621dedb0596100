import Foundation
import Platform

/// What `lts cluster init` prints and `lts cluster join` takes: the main's
/// URL, its certificate's SHA-256 fingerprint, a one-use secret and an
/// expiry, in one line (`lts-join-1.` and base64url of a JSON object).
///
/// Invariant: a parsed token has an https URL ending in `/`, a 32-byte
/// secret and a 32-byte fingerprint; `parse(encoded())` gives it back.
public struct JoinToken: Equatable {
    static let prefix = "lts-join-1."
    static let secretBytes = 32

    public let url: String
    public let secret: [UInt8]
    public let fingerprint: [UInt8]
    /// UTC seconds after which the main refuses it.
    public let expiresAt: Int64

    init(url: String, secret: [UInt8], fingerprint: [UInt8], expiresAt: Int64) {
        self.url = url
        self.secret = secret
        self.fingerprint = fingerprint
        self.expiresAt = expiresAt
    }

    public func encoded() -> String {
        let object: [String: Any] = ["url": url, "secret": Crypto.hex(secret), "fingerprint": Crypto.hex(fingerprint), "expires": expiresAt]
        // Strings and an integer only: JSONSerialization cannot refuse them.
        let json = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return Self.prefix + json.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Reads a token as printed (surrounding spaces allowed).
    /// - Throws: `PairingError` naming what is wrong with it.
    public static func parse(_ text: String) throws -> JoinToken {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix(prefix), trimmed.count < 2_000 else {
            throw PairingError("this is not a join token: it starts with \(prefix) (copy the last line `lts cluster init` printed)")
        }
        var base64 = String(trimmed.dropFirst(prefix.count)).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], object.count == 4,
              let url = object["url"] as? String, let secretText = object["secret"] as? String,
              let fingerprintText = object["fingerprint"] as? String, let expires = object["expires"] as? Int else {
            throw PairingError("the join token is damaged (copy the whole last line `lts cluster init` printed)")
        }
        // The secret is 32 bytes in hex, as a fingerprint is.
        guard let secret = SelfSignedCertificate.parseFingerprint(secretText), secret.count == secretBytes,
              let fingerprint = SelfSignedCertificate.parseFingerprint(fingerprintText) else {
            throw PairingError("the join token is damaged (copy the whole last line `lts cluster init` printed)")
        }
        return JoinToken(url: try PublicURL.normalized(url, setting: "the token's URL"), secret: secret, fingerprint: fingerprint,
                         expiresAt: Int64(expires))
    }
}

/// Why pairing could not go on; the text says what to do.
public struct PairingError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A node's public URL as pairing takes it: https, with a host, ending in `/`.
enum PublicURL {
    static func normalized(_ text: String, setting: String) throws -> String {
        guard let components = URLComponents(string: text), components.scheme == "https", let host = components.host, !host.isEmpty,
              components.query == nil, components.fragment == nil, components.user == nil else {
            throw PairingError("\(setting) must be an https URL like https://main.site-a:48080/dls/, not \"\(text)\"")
        }
        return text.hasSuffix("/") ? text : text + "/"
    }
}
