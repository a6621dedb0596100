import ArgumentParser
import Foundation
import Transport

/// `lts health`: asks one node for its health and prints it.
struct HealthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Show a node's role, term, log position and version.",
        discussion: "Exits 0 when the node answered, 1 otherwise."
    )

    @Option(name: .long, help: "The node's URL, e.g. https://127.0.0.1:48080/dls/")
    var server: String

    @OptionGroup var trust: TrustOptions

    @Flag(name: .long, help: "Print the JSON answer as it came.")
    var json = false

    func run() throws {
        let client = HTTPClient(trust: try trust.resolve(), timeoutMs: 5_000)
        let response: HTTPClient.Response
        do {
            response = try client.send("GET", Self.apiURL(server, path: "api/health"))
        } catch {
            printError("lts: \(error)")
            throw ExitCode(1)
        }
        guard response.status == 200, let object = response.json else {
            printError("lts: \(server) answered HTTP \(response.status): \(String(decoding: response.body, as: UTF8.self))")
            throw ExitCode(1)
        }
        if json {
            print(String(decoding: response.body, as: UTF8.self))
        } else {
            for key in ["role", "term", "lsn", "uuid", "version"] {
                print("\(key.padding(toLength: 8, withPad: " ", startingAt: 0)) \(object[key].map { "\($0)" } ?? "-")")
            }
        }
    }

    /// Joins a server URL (with or without its `/dls/` part) and an API path.
    static func apiURL(_ server: String, path: String) -> String {
        var base = server
        if !base.hasSuffix("/") { base += "/" }
        if let components = URLComponents(string: base), components.path == "/" { base += "dls/" }
        return base + path
    }
}
