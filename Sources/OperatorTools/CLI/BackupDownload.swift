import ArgumentParser
import ClusterNode
import Foundation
import Platform
import Transport

/// `lts backup`: logs in on one node (primary or standby), has it copy its
/// store (`POST api/admin/backup`), downloads the copy a piece at a time
/// and writes it as a backup file (`BackupFile`), reporting progress on
/// standard error.
///
/// Invariant: `out` appears only complete, with its hashes checked, mode
/// 0600; an existing `out` is replaced only with `replace`.
public struct BackupDownload {
    let server: String
    let out: String
    let passwordFile: String
    let replace: Bool

    public init(server: String, out: String, passwordFile: String, replace: Bool) {
        self.server = server
        self.out = out
        self.passwordFile = passwordFile
        self.replace = replace
    }

    public func run(trust: TLSTrust) throws {
        guard replace || !FileManager.default.fileExists(atPath: out) else {
            printError("lts: \(out) exists; pass --force to replace it")
            throw ExitCode(2)
        }
        do {
            let summary = try download(trust: trust)
            print("backup of node \(summary.nodeUuid) (\(summary.role)) at lsn \(summary.lsn), term \(summary.term): \(summary.databaseBytes) bytes written to \(out)")
        } catch let failure as BackupFailure {
            printError("lts: \(failure)")
            throw ExitCode(1)
        }
    }

    private func download(trust: TLSTrust) throws -> BackupSummary {
        guard let bytes = FileManager.default.contents(atPath: passwordFile) else { throw BackupFailure("cannot read \(passwordFile)") }
        var password = String(decoding: bytes.prefix(4096), as: UTF8.self)
        if password.hasSuffix("\n") { password.removeLast() }
        if password.hasSuffix("\r") { password.removeLast() }
        // Making the copy reads the whole store: allow it minutes.
        let client = HTTPClient(trust: trust, timeoutMs: 600_000, connectTimeoutMs: 10_000)
        let login = try send(client, "POST", "api/admin/login", body: try JSONSerialization.data(withJSONObject: ["password": password]))
        guard login.status == 200, let token = login.json?["token"] as? String else {
            throw BackupFailure("cannot log in on \(server): HTTP \(login.status) \(String(decoding: login.body, as: UTF8.self))")
        }
        let headers = ["Authorization": "Bearer \(token)"]
        printError("lts: \(server) is copying its store")
        let made = try send(client, "POST", "api/admin/backup", body: Data("{}".utf8), headers: headers)
        guard made.status == 201, let id = made.json?["id"] as? String else {
            throw BackupFailure("\(server) made no backup: HTTP \(made.status) \(String(decoding: made.body, as: UTF8.self))")
        }
        let summary: BackupSummary
        do {
            summary = try JSONDecoder().decode(BackupSummary.self, from: made.body)
        } catch {
            throw BackupFailure("\(server) described its backup in a way this lts does not read: \(error)")
        }
        let writer = try BackupFile.Writer(path: out, summary: summary)
        do {
            var lastReport = Date()
            while writer.databaseWritten < summary.databaseBytes {
                let chunk = try send(client, "GET", "api/admin/backup/\(id)?offset=\(writer.databaseWritten)", headers: headers)
                guard chunk.status == 200, !chunk.body.isEmpty else {
                    throw BackupFailure("\(server) stopped sending the backup at byte \(writer.databaseWritten): HTTP \(chunk.status) \(String(decoding: chunk.body.prefix(500), as: UTF8.self))")
                }
                try writer.append(chunk.body)
                if Date().timeIntervalSince(lastReport) >= 1 {
                    lastReport = Date()
                    printError("lts: \(writer.databaseWritten * 100 / max(summary.databaseBytes, 1)) % (\(writer.databaseWritten) of \(summary.databaseBytes) bytes)")
                }
            }
            try writer.finish(replace: replace)
        } catch {
            writer.discard()
            throw error
        }
        return summary
    }

    private func send(_ client: HTTPClient, _ method: String, _ path: String, body: Data? = nil,
                      headers: [String: String] = [:]) throws -> HTTPClient.Response {
        do {
            return try client.send(method, HealthCheck.apiURL(server, path: path), body: body, headers: headers)
        } catch {
            throw BackupFailure("\(server) did not answer: \(error)")
        }
    }
}
