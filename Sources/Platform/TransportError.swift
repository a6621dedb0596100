/// A failure of the transport layer (bind, TLS set-up, connect, handshake),
/// with a sentence an operator can act on.
public struct TransportError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
