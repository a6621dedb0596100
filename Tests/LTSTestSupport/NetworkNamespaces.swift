import Foundation
import Transport

/// Two network namespaces, one per node, each joined to this (the test's)
/// namespace by a veth pair: node `i` has the address `address(i)`, the
/// test reaches both, and the nodes reach each other only through this
/// namespace, where `partition()` drops their traffic and `heal()` lets it
/// through again. Needs root, `ip` and `iptables`.
///
/// Invariant: everything `init` made is removed by `remove()` (also called
/// on deinit), whatever state the test stopped in.
public final class NetworkNamespaces {
    /// The /24 networks of the two nodes' links (their own test hosts).
    static let subnets = ["10.231.0", "10.231.1"]

    public let names: [String]
    private let hostLinks: [String]
    private var partitioned = false
    private var removed = false

    /// Why namespaces cannot be made here, or nil when they can.
    public static var unavailableReason: String? {
        guard getuid() == 0 else { return "network namespaces need root" }
        for tool in ["/usr/sbin/ip", "/usr/sbin/iptables"] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is missing (make test installs iptables)"
        }
        return nil
    }

    public init() throws {
        let tag = String(UUID().uuidString.prefix(6)).lowercased()
        names = ["lts\(tag)0", "lts\(tag)1"]
        hostLinks = ["lh\(tag)0", "lh\(tag)1"]
        do {
            try Self.run("/usr/sbin/sysctl", "-qw", "net.ipv4.ip_forward=1")
            for index in 0..<2 {
                let name = names[index], host = hostLinks[index], peer = "ln\(index)\(tag)", net = Self.subnets[index]
                try Self.run("/usr/sbin/ip", "netns", "add", name)
                try Self.run("/usr/sbin/ip", "link", "add", host, "type", "veth", "peer", "name", peer)
                try Self.run("/usr/sbin/ip", "link", "set", peer, "netns", name)
                try Self.run("/usr/sbin/ip", "addr", "add", "\(net).1/24", "dev", host)
                try Self.run("/usr/sbin/ip", "link", "set", host, "up")
                try Self.run("/usr/sbin/ip", "netns", "exec", name, "ip", "addr", "add", "\(net).2/24", "dev", peer)
                try Self.run("/usr/sbin/ip", "netns", "exec", name, "ip", "link", "set", peer, "up")
                try Self.run("/usr/sbin/ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
                try Self.run("/usr/sbin/ip", "netns", "exec", name, "ip", "route", "add", "default", "via", "\(net).1")
            }
        } catch {
            remove()
            throw error
        }
    }

    deinit { remove() }

    /// The address node `index` listens on.
    public func address(_ index: Int) -> String { "\(Self.subnets[index]).2" }

    /// The command prefix that runs a program inside node `index`'s namespace.
    public func launcher(_ index: Int) -> [String] { ["/usr/sbin/ip", "netns", "exec", names[index]] }

    /// Drops all traffic between the two nodes (both directions).
    public func partition() throws {
        guard !partitioned else { return }
        for rule in forwardRules { try Self.run(["/usr/sbin/iptables", "-I", "FORWARD"] + rule) }
        partitioned = true
    }

    /// Lets the nodes reach each other again.
    public func heal() throws {
        guard partitioned else { return }
        for rule in forwardRules { try Self.run(["/usr/sbin/iptables", "-D", "FORWARD"] + rule) }
        partitioned = false
    }

    private var forwardRules: [[String]] {
        [["-i", hostLinks[0], "-o", hostLinks[1], "-j", "DROP"], ["-i", hostLinks[1], "-o", hostLinks[0], "-j", "DROP"]]
    }

    /// Removes the rules, links and namespaces (idempotent).
    public func remove() {
        guard !removed else { return }
        removed = true
        try? heal()
        for index in 0..<2 {
            try? Self.run("/usr/sbin/ip", "link", "del", hostLinks[index])
            try? Self.run("/usr/sbin/ip", "netns", "del", names[index])
        }
    }

    private static func run(_ arguments: String...) throws { try run(arguments) }

    private static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TransportError("\(arguments.joined(separator: " ")) failed: \(String(decoding: message, as: UTF8.self))")
        }
    }
}
