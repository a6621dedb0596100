import ArgumentParser
import Foundation
import Transport

/// `lts alerts`: usage alert tools.
struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Usage alert tools.",
        subcommands: [AlertsTestCommand.self]
    )
}

/// `lts alerts test`: has the primary send a test email to the alert
/// recipients now, and says whether the mail server took it.
///
/// Exit status: 0 the mail server took the email, 1 the node could not send
/// it (the message says why), 4 no server answered.
struct AlertsTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Send a test email to the usage alert recipients through the primary.",
        discussion: "Example: lts alerts test --servers https://127.0.0.1:48080/dls/,https://127.0.0.1:48081/dls/ --password … --cacert main.crt,standby.crt"
    )

    @Option(name: .long, help: "The node, or the pair's servers in order, comma-separated; the primary sends.")
    var servers: String

    @Option(name: .long, help: "The admin password.")
    var password: String

    @OptionGroup var trust: TrustOptions

    func run() throws {
        let urls = servers.split(separator: ",").map { $0.hasSuffix("/") ? String($0) : $0 + "/" }
        guard !urls.isEmpty else { throw ValidationError("--servers needs one or two URLs") }
        let probe = PairProbe(urls: urls, trusts: try trust.resolve(count: urls.count), password: password)
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
