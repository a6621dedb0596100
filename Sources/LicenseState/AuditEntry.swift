/// One admin action as the audit log keeps it: when, who, from where, what
/// was done to what, and whether it was done.
///
/// Invariant: `actor`, `address` and `object` are at most `actorBytesMax`,
/// `addressBytesMax` and `objectBytesMax` UTF-8 bytes (`init` cuts longer
/// ones at a character boundary; the codec refuses them); a refusal's code
/// is negative.
public struct AuditEntry: Equatable {
    public static let actorBytesMax = 128
    public static let addressBytesMax = 64
    public static let objectBytesMax = 256

    /// What an admin did. The raw value is the name the API, the CSV export
    /// and the log record use.
    public enum Action: String, CaseIterable {
        case login
        /// Logins or password changes refused for a minute after too many failures.
        case lockout
        case logout
        case passwordSet = "password-set"
        case passwordChange = "password-change"
        /// `lts admin reset-password`, applied by the primary.
        case passwordReset = "password-reset"
        case licenseImport = "license-import"
        case handshakeCreate = "handshake-create"
        case handshakeUpdate = "handshake-update"
        case handshakeDelete = "handshake-delete"
        case alertSettings = "alert-settings"
        case alertTest = "alert-test"
        case switchover
        /// `lts drill` reported a drill's outcome to the node.
        case drillReport = "drill-report"
    }

    /// When (UTC seconds).
    public var at: Int64
    /// Who: `admin session 1a2b3c4d` (a session, by a digest of its token),
    /// `anonymous` (not logged in), `setup` (the first password), `operator`
    /// (a reset file).
    public var actor: String
    /// The client address as the node saw it (behind a trusted proxy, the
    /// client's); empty when there was no request.
    public var address: String
    public var action: Action
    /// What was acted on: a license ID, a handshake code, a node URL…; may be empty.
    public var object: String
    /// Nil when the action was done, else the code it was refused with.
    public var refusalCode: Int?

    public init(at: Int64, actor: String, address: String, action: Action, object: String, refusalCode: Int?) {
        precondition(refusalCode.map { $0 < 0 } ?? true, "a refusal code is negative")
        self.at = at
        self.actor = Self.clip(actor, maxBytes: Self.actorBytesMax)
        self.address = Self.clip(address, maxBytes: Self.addressBytesMax)
        self.action = action
        self.object = Self.clip(object, maxBytes: Self.objectBytesMax)
        self.refusalCode = refusalCode
    }

    /// `ok`, or `refused` and the code (`refused -20201`).
    public var result: String {
        refusalCode.map { "refused \($0)" } ?? "ok"
    }

    /// The longest prefix of `text` of whole characters in `maxBytes` UTF-8 bytes.
    static func clip(_ text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var clipped = ""
        var bytes = 0
        for character in text {
            bytes += character.utf8.count
            guard bytes <= maxBytes else { break }
            clipped.append(character)
        }
        return clipped
    }
}
