import Foundation
import Platform
import Transport

/// Two network namespaces, one per node, each joined to this (the test's)
/// namespace by a veth pair: node `i` has the address `address(i)`, the
/// test reaches both, and the nodes reach each other only through this
/// namespace, where `partition()` drops their traffic, `isolate(i)` drops
/// all of node `i`'s (with the test, its client, too) and `heal()` lets
/// everything through again. Needs root, `ip` and `iptables`.
///
/// With `clients: true` a third namespace holds client threads (see
/// `enterClients`), joined the same way: their traffic to the nodes is
/// forwarded here too, so `cutClients(from:)` can cut them from one node
/// while the test itself still reaches both (to watch them).
///
/// Invariant: everything `init` made is removed by `remove()` (also called
/// on deinit), whatever state the test stopped in.
public final class NetworkNamespaces {
    /// The address range of this process's links (see `NetworkSlot`).
    private let slot: NetworkSlot
    /// `setns(2)`, which Swift's Glibc module does not declare.
    private typealias SetNamespace = @convention(c) (Int32, Int32) -> Int32
    private static let cloneNewNet: Int32 = 0x4000_0000

    public let names: [String]
    /// The clients' namespace, when asked for.
    public let clientsName: String?
    /// The test namespace's end of each link: node 0, node 1, then the clients'.
    private let hostLinks: [String]
    /// The DROP rules in place, each `[chain, match...]`, oldest first.
    private var dropRules: [[String]] = []
    private var removed = false

    /// Why namespaces cannot be made here, or nil when they can.
    public static var unavailableReason: String? {
        guard getuid() == 0 else { return "network namespaces need root" }
        for tool in ["/usr/sbin/ip", "/usr/sbin/iptables"] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is missing (make test installs iptables)"
        }
        return nil
    }

    public init(clients: Bool = false) throws {
        let tag = String(UUID().uuidString.prefix(6)).lowercased()
        slot = try NetworkSlot()
        names = ["lts\(tag)0", "lts\(tag)1"]
        clientsName = clients ? "lts\(tag)c" : nil
        hostLinks = ["lh\(tag)0", "lh\(tag)1"] + (clients ? ["lh\(tag)c"] : [])
        do {
            try Self.run("/usr/sbin/sysctl", "-qw", "net.ipv4.ip_forward=1")
            for index in hostLinks.indices {
                let name = index < 2 ? names[index] : clientsName!, host = hostLinks[index], peer = "ln\(index)\(tag)", net = slot.subnet(index)
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
    public func address(_ index: Int) -> String { "\(slot.subnet(index)).2" }

    /// The address node `index` reaches this (the test's) namespace at, where
    /// a witness may listen.
    public func hostAddress(_ index: Int) -> String { "\(slot.subnet(index)).1" }

    /// Drops the traffic between node `index` and TCP `port` of this
    /// namespace (a witness listening here), both directions.
    public func cutWitness(from index: Int, port: Int) throws {
        precondition(names.indices.contains(index), "no node \(index)")
        let link = hostLinks[index]
        try drop([["INPUT", "-i", link, "-p", "tcp", "--dport", "\(port)"], ["OUTPUT", "-o", link, "-p", "tcp", "--sport", "\(port)"]])
    }

    /// The command prefix that runs a program inside node `index`'s namespace.
    public func launcher(_ index: Int) -> [String] { ["/usr/sbin/ip", "netns", "exec", names[index]] }

    /// Drops all traffic between the two nodes (both directions); the test
    /// still reaches both. Cutting what is cut already changes nothing.
    public func partition() throws {
        try drop([["FORWARD", "-i", hostLinks[0], "-o", hostLinks[1]], ["FORWARD", "-i", hostLinks[1], "-o", hostLinks[0]]])
    }

    /// Drops all traffic of node `index`, both directions: with the other
    /// node (forwarded here) and with this namespace (the test and its
    /// clients). Its packets still leave and are lost, as on a dead link:
    /// no reset, connections hang until their own timeouts.
    public func isolate(_ index: Int) throws {
        precondition(names.indices.contains(index), "no node \(index)")
        let link = hostLinks[index]
        try drop([["FORWARD", "-i", link], ["FORWARD", "-o", link], ["INPUT", "-i", link], ["OUTPUT", "-o", link]])
    }

    /// Drops the clients' traffic with node `index` (both directions), as on
    /// a cut that leaves the clients on the other node's side; the test still
    /// reaches both nodes. Needs `clients: true`.
    public func cutClients(from index: Int) throws {
        precondition(clientsName != nil && names.indices.contains(index), "no clients' namespace or no node \(index)")
        try drop([["FORWARD", "-i", hostLinks[2], "-o", hostLinks[index]], ["FORWARD", "-i", hostLinks[index], "-o", hostLinks[2]]])
    }

    /// Moves the calling thread (only it) into the clients' namespace: the
    /// sockets it opens from now on are the clients'. For a thread of its
    /// own that ends with its work, never a pooled one.
    public func enterClients() throws {
        guard let clientsName else { throw TransportError("no clients' namespace was made") }
        let fd = open("/var/run/netns/\(clientsName)", O_RDONLY)
        guard fd >= 0 else { throw TransportError("cannot open the namespace \(clientsName): errno \(errno)") }
        defer { close(fd) }
        let setns = unsafeBitCast(dlsym(nil, "setns"), to: SetNamespace.self)
        guard setns(fd, Self.cloneNewNet) == 0 else { throw TransportError("setns(\(clientsName)) failed: errno \(errno)") }
    }

    /// Removes every rule `partition`, `isolate`, `cutClients` and `cutWitness` added, so that all
    /// traffic flows again.
    public func heal() throws {
        var failure: Error?
        for rule in dropRules.reversed() {
            do {
                try Self.run(["/usr/sbin/iptables", "-D"] + rule + ["-j", "DROP"])
                dropRules.removeAll { $0 == rule }
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
    }

    /// Inserts a DROP rule for each `[chain, match...]` not in place yet.
    private func drop(_ rules: [[String]]) throws {
        for rule in rules where !dropRules.contains(rule) {
            try Self.run(["/usr/sbin/iptables", "-I"] + rule + ["-j", "DROP"])
            dropRules.append(rule)
        }
    }

    /// Removes the rules, links and namespaces (idempotent).
    public func remove() {
        guard !removed else { return }
        removed = true
        try? heal()
        for (index, link) in hostLinks.enumerated() {
            try? Self.run("/usr/sbin/ip", "link", "del", link)
            try? Self.run("/usr/sbin/ip", "netns", "del", index < 2 ? names[index] : clientsName!)
        }
        slot.release()
    }

    private static func run(_ arguments: String...) throws { try run(arguments) }

    /// Runs a tool to completion; throws with its standard error when it fails.
    /// Spawned and reaped directly, not with `Process`, whose `waitUntilExit`
    /// polls every 50 ms here: a cut must start and end when the test says.
    private static func run(_ arguments: [String]) throws {
        var errorPipe: [Int32] = [0, 0]
        guard pipe(&errorPipe) == 0 else { throw TransportError("pipe() failed: errno \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)
        posix_spawn_file_actions_addclose(&actions, errorPipe[0])
        posix_spawn_file_actions_addclose(&actions, errorPipe[1])
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        close(errorPipe[1])
        let errors = FileHandle(fileDescriptor: errorPipe[0], closeOnDealloc: true)
        guard spawned == 0 else { throw TransportError("cannot run \(arguments[0]): errno \(spawned)") }
        let message = errors.readDataToEndOfFile()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw TransportError("waitpid() failed: errno \(errno)") }
        }
        // A wait status of 0 is a normal exit with code 0.
        guard status == 0 else {
            throw TransportError("\(arguments.joined(separator: " ")) failed (wait status \(status)): \(String(decoding: message, as: UTF8.self))")
        }
    }
}
