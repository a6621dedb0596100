import LicenseState
import Platform
import Replication
import Transport

/// The mutual authentication that opens every replication stream, without
/// any I/O: the frames and the MACs. After the `101`, the server sends
/// `challenge{serverNonce}`, the client answers `auth{clientNonce, nodeUUID,
/// mac}` proving it holds the cluster secret for this very challenge, and the
/// server answers `welcome{mac}` proving the same back, bound to the client's
/// nonce. Each side's MAC starts with its own label, so a MAC taken from one
/// direction is never accepted in the other.
///
/// Invariant: the cluster secret never appears in a frame (only MACs under
/// its SHA-256 do); a frame is accepted only in its exact layout (right
/// type, nonce and MAC lengths, a well-formed node UUID, no trailing bytes);
/// MACs are compared in constant time.
enum ReplicationHandshake {
    /// The HTTP `Upgrade` token of the replication stream.
    static let protocolName = "lts-replication/1"
    /// Length of each side's random nonce.
    static let nonceBytes = 32
    /// Length of an HMAC-SHA-256.
    static let macBytes = 32
    /// Longest node UUID accepted (a UUID in text takes 36).
    static let nodeUUIDBytesMax = 64

    /// Frame types of the handshake; 1–8 are the replication messages
    /// (`ReplicationMessageCodec.FrameType`), so these never decode as one.
    enum FrameType: UInt8 {
        case challenge = 9, auth, welcome
    }

    /// What a client sends to authenticate, as read from the wire.
    ///
    /// Invariant: `clientNonce` and `mac` have their fixed lengths and
    /// `nodeUUID` passed `isWellFormed(nodeUUID:)`.
    struct Auth: Equatable {
        let clientNonce: [UInt8]
        let nodeUUID: String
        let mac: [UInt8]
    }

    /// The MAC key: the SHA-256 of the secret's UTF-8 bytes.
    static func key(clusterSecret: String) -> [UInt8] {
        Crypto.sha256(Array(clusterSecret.utf8))
    }

    // MARK: Server → client

    static func challenge(serverNonce: [UInt8]) -> Frame {
        precondition(serverNonce.count == nonceBytes, "a server nonce has nonceBytes")
        var writer = BinaryWriter()
        writer.data(serverNonce)
        return Frame(type: FrameType.challenge.rawValue, payload: writer.bytes)
    }

    /// The server's nonce from a `challenge` frame.
    static func serverNonce(fromChallenge frame: Frame) throws -> [UInt8] {
        var reader = try Self.reader(frame, expecting: .challenge)
        let nonce = try fixed(&reader, bytes: nonceBytes)
        try end(reader)
        return nonce
    }

    static func welcome(key: [UInt8], clientNonce: [UInt8], serverNonce: [UInt8]) -> Frame {
        var writer = BinaryWriter()
        writer.data(serverMAC(key: key, clientNonce: clientNonce, serverNonce: serverNonce))
        return Frame(type: FrameType.welcome.rawValue, payload: writer.bytes)
    }

    /// Whether a `welcome` frame proves that the server holds the secret.
    /// - Returns: false for a well-formed welcome whose MAC is wrong.
    /// - Throws: `BinaryReader.Malformed` for anything but a welcome frame.
    static func welcomeProvesSecret(_ frame: Frame, key: [UInt8], clientNonce: [UInt8], serverNonce: [UInt8]) throws -> Bool {
        var reader = try Self.reader(frame, expecting: .welcome)
        let mac = try fixed(&reader, bytes: macBytes)
        try end(reader)
        return Crypto.constantTimeEqual(mac, serverMAC(key: key, clientNonce: clientNonce, serverNonce: serverNonce))
    }

    // MARK: Client → server

    static func auth(key: [UInt8], serverNonce: [UInt8], clientNonce: [UInt8], nodeUUID: String) -> Frame {
        precondition(clientNonce.count == nonceBytes, "a client nonce has nonceBytes")
        precondition(isWellFormed(nodeUUID: nodeUUID), "the node UUID is well formed")
        var writer = BinaryWriter()
        writer.data(clientNonce)
        writer.string(nodeUUID)
        writer.data(clientMAC(key: key, serverNonce: serverNonce, clientNonce: clientNonce, nodeUUID: nodeUUID))
        return Frame(type: FrameType.auth.rawValue, payload: writer.bytes)
    }

    /// Reads an `auth` frame; its MAC is checked by `authProvesSecret`.
    static func parseAuth(_ frame: Frame) throws -> Auth {
        var reader = try Self.reader(frame, expecting: .auth)
        let clientNonce = try fixed(&reader, bytes: nonceBytes)
        let nodeUUID = try reader.string()
        guard isWellFormed(nodeUUID: nodeUUID) else { throw BinaryReader.Malformed() }
        let mac = try fixed(&reader, bytes: macBytes)
        try end(reader)
        return Auth(clientNonce: clientNonce, nodeUUID: nodeUUID, mac: mac)
    }

    /// Whether `auth` answers the challenge `serverNonce` with the secret behind `key`.
    static func authProvesSecret(_ auth: Auth, key: [UInt8], serverNonce: [UInt8]) -> Bool {
        let expected = clientMAC(key: key, serverNonce: serverNonce, clientNonce: auth.clientNonce, nodeUUID: auth.nodeUUID)
        return Crypto.constantTimeEqual(auth.mac, expected)
    }

    /// A node UUID goes into log lines, so only letters, digits and `-` are
    /// accepted: a peer cannot forge log lines through it.
    static func isWellFormed(nodeUUID: String) -> Bool {
        let bytes = Array(nodeUUID.utf8)
        guard !bytes.isEmpty, bytes.count <= nodeUUIDBytesMax else { return false }
        return bytes.allSatisfy { byte in
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || byte == UInt8(ascii: "-")
        }
    }

    // MARK: MACs

    /// HMAC(key, "lts-replication/1 client" ‖ serverNonce ‖ clientNonce ‖ nodeUUID).
    /// The nonces have fixed lengths and the UUID comes last, so the
    /// concatenation cannot be read two ways.
    static func clientMAC(key: [UInt8], serverNonce: [UInt8], clientNonce: [UInt8], nodeUUID: String) -> [UInt8] {
        Crypto.hmacSHA256(key: key, message: Array("\(protocolName) client".utf8) + serverNonce + clientNonce + Array(nodeUUID.utf8))
    }

    /// HMAC(key, "lts-replication/1 server" ‖ clientNonce ‖ serverNonce).
    static func serverMAC(key: [UInt8], clientNonce: [UInt8], serverNonce: [UInt8]) -> [UInt8] {
        Crypto.hmacSHA256(key: key, message: Array("\(protocolName) server".utf8) + clientNonce + serverNonce)
    }

    // MARK: Reading

    private static func reader(_ frame: Frame, expecting type: FrameType) throws -> BinaryReader {
        guard frame.type == type.rawValue else { throw BinaryReader.Malformed() }
        return BinaryReader(frame.payload)
    }

    private static func fixed(_ reader: inout BinaryReader, bytes: Int) throws -> [UInt8] {
        let value = try reader.data()
        guard value.count == bytes else { throw BinaryReader.Malformed() }
        return value
    }

    private static func end(_ reader: BinaryReader) throws {
        guard reader.isAtEnd else { throw BinaryReader.Malformed() }
    }
}
