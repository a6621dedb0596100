import ArgumentParser
import ClusterNode
import Foundation

/// Where an operator command that logs into a pair takes the admin
/// password from, first found first: `--password`, `--password-file FILE`
/// (its first line), the environment variable `LTS_PASSWORD`, else a prompt
/// on the controlling terminal (echo off).
///
/// Invariant: a password is 1 to `PasswordHasher.passwordLengthMax` bytes;
/// no source found, an unreadable file or an empty password end the
/// command with exit status 2 and a sentence that names the sources.
public enum AdminPasswordSource {
    public static let environmentVariable = "LTS_PASSWORD"

    public static func resolve(password: String?, passwordFile: String?) throws -> String {
        let found: String?
        if let password {
            found = password
        } else if let passwordFile {
            guard let bytes = FileManager.default.contents(atPath: passwordFile) else {
                printError("lts: cannot read the password file \(passwordFile)")
                throw ExitCode(2)
            }
            found = String(decoding: bytes.prefix(PasswordHasher.passwordLengthMax + 2), as: UTF8.self)
                .split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first
                .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        } else if let value = ProcessInfo.processInfo.environment[environmentVariable] {
            found = value
        } else if let terminal = Terminal.controlling() {
            defer { terminal.release() }
            found = terminal.ask("Admin password: ")
        } else {
            printError("lts: no admin password: give --password-file FILE, set \(environmentVariable), or run on a terminal to be asked")
            throw ExitCode(2)
        }
        guard let found, !found.isEmpty, found.utf8.count <= PasswordHasher.passwordLengthMax else {
            printError("lts: the admin password is empty or longer than \(PasswordHasher.passwordLengthMax) bytes")
            throw ExitCode(2)
        }
        return found
    }
}
