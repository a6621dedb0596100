import Foundation

/// The proxies whose `X-Forwarded-For` a server believes (config
/// `trustedProxies`), and the rule that finds a request's client behind them.
///
/// The rule (as nginx's `real_ip_recursive` and most frameworks apply it):
/// only when the TCP peer is a trusted proxy, read X-Forwarded-For from the
/// right (the entry the nearest proxy appended) and take the first address
/// that is not itself a trusted proxy; when every entry is one, the
/// left-most. Entries left of the client are never read: anyone may write
/// them, so junk there is no error. A request from any other peer is its
/// peer, whatever headers it carries.
///
/// Invariant: with no networks (the default) every request's client is its
/// TCP peer; a client address taken from the header is in canonical form
/// (`IPNetwork.text(of:)`).
public struct TrustedProxies: Equatable {
    /// Entries of X-Forwarded-For read at most: a longer chain of trusted
    /// proxies is no deployment, and bounds the work per request.
    public static let hopsMax = 32

    public let networks: [IPNetwork]

    public init(networks: [IPNetwork] = []) {
        self.networks = networks
    }

    /// Why an entry of `trustedProxies` is refused.
    public struct BadEntry: Error, Equatable {
        public let entry: String
    }

    /// Why a trusted proxy's X-Forwarded-For cannot be used.
    public struct MalformedHeader: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// Parses CIDRs and bare addresses.
    /// - Throws: `BadEntry` naming the first entry that is neither.
    public init(parsing entries: [String]) throws {
        networks = try entries.map { entry in
            guard let network = IPNetwork(cidr: entry) else { throw BadEntry(entry: entry) }
            return network
        }
    }

    /// Whether `address` (numeric text) is in one of the networks.
    public func contains(_ address: String) -> Bool {
        guard let bytes = IPNetwork.addressBytes(address) else { return false }
        return contains(bytes: bytes)
    }

    private func contains(bytes: [UInt8]) -> Bool {
        networks.contains { $0.contains(bytes) }
    }

    /// The client behind the request.
    /// - Parameters:
    ///   - peer: the TCP peer's numeric address.
    ///   - forwardedFor: the values of every X-Forwarded-For header, in order
    ///     (several headers count as one list joined by commas).
    /// - Returns: `peer` unless it is a trusted proxy that sent the header.
    /// - Throws: `MalformedHeader` when a trusted proxy's header has an
    ///   empty entry or one that is no address where the rule must read it,
    ///   or more than `hopsMax` entries of trusted proxies.
    public func clientAddress(peer: String, forwardedFor: [String]) throws -> String {
        guard !networks.isEmpty, !forwardedFor.isEmpty, contains(peer) else { return peer }
        let entries = forwardedFor.joined(separator: ",").split(separator: ",", omittingEmptySubsequences: false)
        var leftmost: [UInt8]?
        for entry in entries.reversed().prefix(Self.hopsMax) {
            let text = entry.trimmingCharacters(in: [" ", "\t"])
            guard let bytes = IPNetwork.addressBytes(text) else {
                throw MalformedHeader(description: "X-Forwarded-For from the trusted proxy \(peer) has \(text.isEmpty ? "an empty entry" : "the entry \"\(text.prefix(64))\", which is no IP address")")
            }
            guard contains(bytes: bytes) else { return IPNetwork.text(of: bytes) }
            leftmost = bytes
        }
        guard entries.count <= Self.hopsMax, let leftmost else {
            throw MalformedHeader(description: "X-Forwarded-For from the trusted proxy \(peer) names more than \(Self.hopsMax) trusted proxies")
        }
        return IPNetwork.text(of: leftmost)
    }
}
