import ArgumentParser

/// `lts admin`: tools for the operator who holds a node's data directory.
struct AdminCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Operator tools that work on a node's data directory.",
        subcommands: [ResetPasswordCommand.self]
    )
}
