import Foundation
import Platform

/// One string that holds what a client needs to reach a license server:
/// the handshake code and the servers in order, each with the SHA-256
/// fingerprint of its certificate when it is self-signed (like the DLS
/// license key that embeds the server URLs).
///
/// Form: `lts1.` then base64url (no padding) of the JSON object
/// `{"code":…,"servers":[{"url":…,"sha256":"hex"?}…]}`, keys sorted.
///
/// Invariant: `ClientKey(parsing: k.text) == k`; parsing refuses anything
/// else (another prefix, bad base64 or JSON, unknown keys, an empty code,
/// no server or more than two, a fingerprint that is not 32 bytes).
public struct ClientKey: Equatable {
    /// One server and how to trust it.
    public struct Server: Equatable {
        public var url: String
        /// SHA-256 of the server's certificate; nil: verify by CA.
        public var fingerprint: [UInt8]?

        public init(url: String, fingerprint: [UInt8]? = nil) {
            self.url = url
            self.fingerprint = fingerprint
        }
    }

    /// Why a text is no client key.
    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    public static let prefix = "lts1."
    /// Longest key text accepted.
    public static let textBytesMax = 4096

    public var handshakeCode: String
    public var servers: [Server]

    public init(handshakeCode: String, servers: [Server]) {
        self.handshakeCode = handshakeCode
        self.servers = servers
    }

    /// The key as text.
    public var text: String {
        let servers: [[String: Any]] = self.servers.map { server in
            var object: [String: Any] = ["url": server.url]
            if let fingerprint = server.fingerprint { object["sha256"] = Crypto.hex(fingerprint) }
            return object
        }
        let object: [String: Any] = ["code": handshakeCode, "servers": servers]
        let json = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Self.prefix + json.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// - Throws: `Malformed` saying what is wrong.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.utf8.count <= Self.textBytesMax else { throw Malformed(description: "a client key is at most \(Self.textBytesMax) bytes") }
        guard trimmed.hasPrefix(Self.prefix) else { throw Malformed(description: "a client key starts with \(Self.prefix)") }
        var base64 = String(trimmed.dropFirst(Self.prefix.count))
        guard base64.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw Malformed(description: "a client key holds only letters, digits, - and _ after its prefix")
        }
        base64 = base64.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let json = Data(base64Encoded: base64),
              let object = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else {
            throw Malformed(description: "the client key does not decode")
        }
        guard Set(object.keys) == ["code", "servers"], let code = object["code"] as? String, !code.isEmpty,
              let list = object["servers"] as? [[String: Any]], (1...ServerList.serversMax).contains(list.count) else {
            throw Malformed(description: "a client key names a handshake code and one or two servers")
        }
        var servers: [Server] = []
        for entry in list {
            guard Set(entry.keys).isSubset(of: ["url", "sha256"]), let url = entry["url"] as? String,
                  url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw Malformed(description: "each server of a client key has an http(s) url")
            }
            var fingerprint: [UInt8]?
            if let hex = entry["sha256"] {
                guard let hex = hex as? String, let bytes = SelfSignedCertificate.parseFingerprint(hex) else {
                    throw Malformed(description: "a server's sha256 is 64 hex digits")
                }
                // A plain http:// server has no certificate: a pin there would be skipped without a word.
                guard url.hasPrefix("https://") else { throw Malformed(description: "an http:// server has no certificate to pin (sha256)") }
                fingerprint = bytes
            }
            servers.append(Server(url: url, fingerprint: fingerprint))
        }
        guard Set(servers.map(\.url)).count == servers.count else { throw Malformed(description: "a client key names a server twice") }
        self.init(handshakeCode: code, servers: servers)
    }
}
