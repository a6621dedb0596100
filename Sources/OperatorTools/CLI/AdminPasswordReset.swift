import ArgumentParser
import ClusterNode
import Foundation
import LicenseState

/// `lts admin reset-password`: writes the hash of a new admin password to
/// `DATA/admin-password.reset` (see `PasswordResetFile`), for the node on
/// that data directory to apply (see `PendingPasswordReset`); the password
/// comes from a file or is asked twice on the terminal.
public struct AdminPasswordReset {
    /// The node's data directory.
    let data: String
    /// A file holding the new password, else the terminal is asked.
    let passwordFile: String?

    public init(data: String, passwordFile: String?) {
        self.data = data
        self.passwordFile = passwordFile
    }

    public func run() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: data, isDirectory: &isDirectory), isDirectory.boolValue,
              FileManager.default.fileExists(atPath: data + "/node.uuid") else {
            printError("lts: \(data) is not an lts data directory (it has no node.uuid); pass the node's \"dataDir\"")
            throw ExitCode(2)
        }
        let password = try readPassword()
        guard PasswordHasher.isAcceptable(password) else {
            printError("lts: the password needs at least \(PasswordHasher.adminPasswordLengthMin) characters, not all of them spaces")
            throw ExitCode(2)
        }
        guard password.utf8.count <= PasswordHasher.passwordLengthMax else {
            printError("lts: the password may have at most \(PasswordHasher.passwordLengthMax) bytes")
            throw ExitCode(2)
        }
        let hash = PasswordHasher.hash(password, iterations: PasswordHash.adminIterations)
        let path = PasswordResetFile.path(dataDirectory: data)
        do {
            try PasswordResetFile.writeAtomically(PasswordResetFile.encode(hash), to: path)
        } catch {
            printError("lts: \(error)")
            throw ExitCode(1)
        }
        print("wrote the new admin password's hash to \(path) (mode 0600)")
        if let pid = runningNode() {
            print("""
            the node running on \(data) (pid \(pid)) applies it within \(PendingPasswordReset.checkIntervalMs / 1000) seconds \
            if it is primary or standalone, else when it next becomes primary
            """)
        } else {
            print("no node runs on \(data) now: it applies the reset when it starts as standalone or becomes primary")
        }
        print("applying it logs the new password (a standby gets it through replication), ends every admin session and deletes the file")
    }

    // MARK: Reading the password

    private func readPassword() throws -> String {
        if let passwordFile {
            guard let bytes = FileManager.default.contents(atPath: passwordFile) else {
                printError("lts: cannot read \(passwordFile)")
                throw ExitCode(1)
            }
            var text = String(decoding: bytes.prefix(PasswordHasher.passwordLengthMax + 2), as: UTF8.self)
            if text.hasSuffix("\n") { text.removeLast() }
            if text.hasSuffix("\r") { text.removeLast() }
            return text
        }
        guard let terminal = Terminal.controlling() else {
            printError("lts: no terminal to ask the password on; pass --password-file FILE")
            throw ExitCode(2)
        }
        defer { terminal.release() }
        let first = terminal.ask("New admin password: ")
        let second = terminal.ask("Repeat it: ")
        guard let first, let second else {
            printError("lts: no password read")
            throw ExitCode(1)
        }
        guard first == second else {
            printError("lts: the two passwords differ; nothing written")
            throw ExitCode(1)
        }
        return first
    }

    /// The pid of the node that holds `data`, when one runs (its pid file
    /// names a live process).
    private func runningNode() -> Int32? {
        guard let text = try? String(contentsOfFile: data + "/lts.pid", encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 else { return nil }
        return kill(pid, 0) == 0 || errno == EPERM ? pid : nil
    }
}
