import ArgumentParser
import ClusterNode
import Foundation
import LicenseState

/// The controlling terminal (`/dev/tty`), for asking a password without
/// echoing it, like readpassphrase(3).
///
/// Invariant: the terminal's settings are restored after each question.
final class Terminal {
    private let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// The terminal, or nil when the process has none.
    static func controlling() -> Terminal? {
        let descriptor = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        return Terminal(descriptor: descriptor)
    }

    func release() {
        close(descriptor)
    }

    /// Writes `prompt`, reads one line with echo off.
    /// - Returns: the line without its newline, or nil at end of input.
    func ask(_ prompt: String) -> String? {
        show(prompt)
        var saved = termios()
        let isTerminal = tcgetattr(descriptor, &saved) == 0
        if isTerminal {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            quiet.c_lflag |= tcflag_t(ECHONL)
            tcsetattr(descriptor, TCSAFLUSH, &quiet)
        }
        defer { if isTerminal { tcsetattr(descriptor, TCSAFLUSH, &saved) } }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count <= PasswordHasher.passwordLengthMax + 1 {
            let count = read(descriptor, &byte, 1)
            if count < 0, errno == EINTR { continue }
            guard count == 1 else { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return String(decoding: line, as: UTF8.self)
    }

    private func show(_ text: String) {
        let bytes = Array(text.utf8)
        _ = write(descriptor, bytes, bytes.count)
    }
}
