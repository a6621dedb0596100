import ArgumentParser
import Foundation
import Platform
import Transport

/// `lts health`: asks one node for its health (`GET api/health`) and prints
/// it; exits 1 when the node did not answer 200.
public struct HealthCheck {
    let server: String
    /// Print the JSON answer as it came.
    let json: Bool

    public init(server: String, json: Bool) {
        self.server = server
        self.json = json
    }

    public func run(trust: TLSTrust) throws {
        let client = HTTPClient(trust: trust, timeoutMs: 5_000)
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
