import ArgumentParser
import Foundation
import LicenseClient
import OperatorTools
import Platform
import Transport

/// `lts client`: the client calls from the command line, through
/// `LicenseClient` (so with the same failover a client library gets).
struct ClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Act as a license client of a node or a pair: authorize, report, heartbeat, release; print client keys.",
        discussion: """
        Exit status: 0 on success, 3 when a server refused (the DLS code is in the message), 4 when no server answered.
        Example: lts client authorize --servers https://127.0.0.1:48080/dls/,https://127.0.0.1:48081/dls/ \\
                   --fingerprint FP0,FP1 --code CODE --product dbr
        """,
        subcommands: [ClientAuthorizeCommand.self, ClientReportCommand.self, ClientHeartbeatCommand.self, ClientReleaseCommand.self,
                      ClientDeliverCommand.self, ClientKeyCommand.self]
    )

    static let refusedExitCode: Int32 = 3
    static let unavailableExitCode: Int32 = 4
}

/// Where a client finds its servers, code, identity and trust.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "A client key (lts client key), in place of --servers, --code and --fingerprint.")
    var key: String?

    @Option(name: .long, help: "The servers in order, comma-separated: main first, e.g. https://a:48080/dls/,https://b:48081/dls/")
    var servers: String?

    @Option(name: .long, help: "The handshake code.")
    var code: String?

    @Option(name: .long, help: "This client's UUID (default: one made once and kept in --state-dir).")
    var clientUUID: String?

    @Option(name: .long, help: "Where the client keeps its UUID (default: $XDG_STATE_HOME/lts-client or ~/.local/state/lts-client).")
    var stateDir: String?

    @Option(name: .long, help: "The handshake code's session password, if it has one.")
    var sessionPassword: String?

    @Option(name: .long, help: "Validation field: this client's web domain.")
    var domain: String?

    @Option(name: .long, help: "Validation field: this client's application ID.")
    var appId: String?

    @Option(name: .long, help: "Validation field: this client's process name.")
    var process: String?

    @OptionGroup var trust: TrustOptions

    @Option(name: .long, help: "How long one call keeps trying all servers, in ms.")
    var deadlineMs = 15_000

    @Flag(name: .long, help: "Print the answer as JSON.")
    var json = false

    /// The client these options describe.
    func makeClient() throws -> LicenseClient {
        var settings: LicenseClient.Settings
        let uuid = try clientUUID ?? ClientIdentity.load(directory: stateDir ?? ClientIdentity.defaultDirectory)
        if let key {
            guard servers == nil, code == nil, trust.fingerprint == nil else {
                throw ValidationError("--key already holds the servers, the code and the fingerprints")
            }
            settings = LicenseClient.Settings(key: try ClientKey(parsing: key), clientUUID: uuid)
            if trust.isGiven {
                let trusts = try trust.resolve(count: settings.servers.count)
                settings.servers = zip(settings.servers, trusts).map { ($0.0.url, $0.1) }
            }
        } else {
            guard let servers, let code else { throw ValidationError("give --servers and --code, or --key") }
            let urls = servers.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            let trusts = try trust.resolve(count: urls.count)
            settings = LicenseClient.Settings(servers: Array(zip(urls, trusts)).map { ($0.0, $0.1) }, handshakeCode: code, clientUUID: uuid)
        }
        settings.sessionPassword = sessionPassword
        settings.domain = domain
        settings.appId = appId
        settings.process = process
        settings.callDeadlineMs = deadlineMs
        return try LicenseClient(settings: settings)
    }

    /// Runs `body`, turning a refusal or no answer into a message and the exit status.
    func perform(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let refusal as LicenseClient.Refusal {
            printError("lts: refused: \(refusal.message) (code \(refusal.code))")
            throw ExitCode(ClientCommand.refusedExitCode)
        } catch let unavailable as LicenseClient.Unavailable {
            printError("lts: \(unavailable)")
            throw ExitCode(ClientCommand.unavailableExitCode)
        }
    }

    /// Prints `fields` as JSON (--json) or as aligned lines.
    func print(_ fields: KeyValuePairs<String, Any>) {
        if json {
            let object = Dictionary(fields.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            Swift.print(String(decoding: data, as: UTF8.self))
        } else {
            for (key, value) in fields { Swift.print("\(key.padding(toLength: 13, withPad: " ", startingAt: 0)) \(value)") }
        }
    }
}

struct ClientAuthorizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "authorize", abstract: "Ask for an authorization.")

    @OptionGroup var options: ClientOptions

    @Option(name: .long, help: "The product to authorize.")
    var product: String

    @Option(name: .long, help: "Scans to consume (scan items; default 1).")
    var scans: Int?

    @Option(name: .long, help: "The request ID (default: a new one); the same ID never counts twice.")
    var requestId: String?

    func run() throws {
        try options.perform {
            let grant = try options.makeClient().authorize(product: product, scans: scans, requestId: requestId ?? LicenseClient.newRequestId())
            options.print(["grantId": grant.grantId, "itemId": grant.itemId, "grace": grant.grace, "leaseSeconds": grant.leaseSeconds,
                           "term": grant.term, "requestId": grant.requestId, "server": grant.server, "token": grant.token])
        }
    }
}

struct ClientReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "Report scans used.",
                                                    discussion: "With --buffer, a report no server takes is kept in that file and sent by `lts client deliver`.")

    @OptionGroup var options: ClientOptions

    @Option(name: .long, help: "Scans used.")
    var scans: Int = 1

    @Option(name: .long, help: "The grant the usage belongs to.")
    var grantId: String?

    @Option(name: .long, help: "A file that keeps reports no server took (delivered later, each once).")
    var buffer: String?

    @Option(name: .long, help: "How long a buffered report waits before it is dropped, in days.")
    var maxBufferDays = 7

    func run() throws {
        try options.perform {
            let buffered = try buffer.map { try ReportBuffer(path: $0, maxAgeSeconds: Int64(maxBufferDays) * 86_400) }
            switch try options.makeClient().report(scans: scans, grantId: grantId, buffer: buffered) {
            case .delivered(let server): options.print(["reported": scans, "server": server])
            case .buffered: options.print(["reported": 0, "buffered": scans, "buffer": buffer ?? ""])
            }
        }
    }
}

struct ClientDeliverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deliver", abstract: "Send the reports a buffer file holds.")

    @OptionGroup var options: ClientOptions

    @Option(name: .long, help: "The buffer file of `lts client report --buffer`.")
    var buffer: String

    @Option(name: .long, help: "Reports older than this many days are dropped, not delivered.")
    var maxBufferDays = 7

    func run() throws {
        try options.perform {
            let file = try ReportBuffer(path: buffer, maxAgeSeconds: Int64(maxBufferDays) * 86_400)
            let result = try options.makeClient().deliverBuffered(file)
            options.print(["delivered": result.delivered, "refused": result.refused, "waiting": file.count, "expired": file.expiredTotal])
            if file.count > 0 { throw ExitCode(ClientCommand.unavailableExitCode) }
        }
    }
}

struct ClientHeartbeatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "heartbeat", abstract: "Renew a lease.")

    @OptionGroup var options: ClientOptions

    @Option(name: .long, help: "The grant whose lease to renew.")
    var grantId: String

    func run() throws {
        try options.perform {
            let renewal = try options.makeClient().heartbeat(grantId: grantId)
            options.print(["grantId": grantId, "leaseSeconds": renewal.leaseSeconds, "server": renewal.server])
        }
    }
}

struct ClientReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "release", abstract: "Release a lease.")

    @OptionGroup var options: ClientOptions

    @Option(name: .long, help: "The grant whose lease to release.")
    var grantId: String

    func run() throws {
        try options.perform {
            try options.makeClient().release(grantId: grantId)
            options.print(["grantId": grantId, "released": true])
        }
    }
}

struct ClientKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Print the client key of a handshake code: its servers, the code and the certificate fingerprints.",
        discussion: "Example: lts client key CODE --servers https://a:48080/dls/,https://b:48081/dls/ --fingerprint FP0,FP1")

    @Argument(help: "The handshake code.")
    var code: String

    @Option(name: .long, help: "The servers in order, comma-separated.")
    var servers: String

    @Option(name: .long, help: "The servers' SHA-256 certificate fingerprints, one per server (leave out for CA-signed servers).")
    var fingerprint: String?

    func run() throws {
        let urls = servers.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        var fingerprints: [[UInt8]?] = Array(repeating: nil, count: urls.count)
        if let fingerprint {
            let parsed = fingerprint.split(separator: ",").map { SelfSignedCertificate.parseFingerprint(String($0)) }
            guard parsed.count == urls.count, parsed.allSatisfy({ $0 != nil }) else {
                throw ValidationError("--fingerprint takes 64 hex digits per server, one per server in order")
            }
            fingerprints = parsed
        }
        let key = ClientKey(handshakeCode: code, servers: zip(urls, fingerprints).map { ClientKey.Server(url: $0.0, fingerprint: $0.1) })
        // Checked the way a client will read it.
        do {
            _ = try ClientKey(parsing: key.text)
        } catch {
            throw ValidationError("\(error)")
        }
        print(key.text)
    }
}
