import ArgumentParser
import Foundation
import Platform
import Transport

/// `lts alerts test`: has the primary send a test email to the alert
/// recipients now. Exits 1 when the node could not send it, 4 when no
/// primary answered.
public struct AlertTest {
    /// The node, or the pair's servers in order, comma-separated.
    let servers: String
    /// The admin password.
    let password: String

    public init(servers: String, password: String) {
        self.servers = servers
        self.password = password
    }

    public func run(trust: (Int) throws -> [TLSTrust]) throws {
        let urls = servers.split(separator: ",").map { $0.hasSuffix("/") ? String($0) : $0 + "/" }
        guard !urls.isEmpty else { throw ValidationError("--servers needs one or two URLs") }
        let probe = PairProbe(urls: urls, trusts: try trust(urls.count), password: password)
        var unreachable: [String] = []
        for index in urls.indices {
            let response: HTTPClient.Response
            do {
                response = try probe.call(index, "POST", "api/admin/alerts/test", body: [:], admin: true)
            } catch {
                unreachable.append("\(urls[index]): \(error)")
                continue
            }
            if response.status == 421 { continue }
            let answer = response.json ?? [:]
            if response.status == 200 {
                let recipients = (answer["recipients"] as? [String] ?? []).joined(separator: ", ")
                print("The mail server took the test email for \(recipients) (sent by \(urls[index])).")
                return
            }
            printError("The test email was not sent: \(answer["message"] as? String ?? "HTTP \(response.status)") (code \(answer["code"] as? Int ?? 0))")
            throw ExitCode(1)
        }
        printError("No primary answered: \(unreachable.isEmpty ? "every server is a standby" : unreachable.joined(separator: "; "))")
        throw ExitCode(4)
    }
}
