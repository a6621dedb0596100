/// A refusal with its DLS-style code, HTTP status and a sentence for the user.
///
/// Invariant: codes are negative and listed in the README's error table.
public struct LicenseError: Error, Equatable, CustomStringConvertible {
    public let code: Int
    public let status: Int
    public let message: String

    public init(code: Int, status: Int, message: String) {
        self.code = code
        self.status = status
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    // MARK: Client calls (-201xx)

    public static func invalidHandshakeCode(_ code: String) -> LicenseError {
        LicenseError(code: -20110, status: 403, message: "The handshake code \"\(code)\" is not valid on this server.")
    }
    public static func validationMismatch(_ field: String) -> LicenseError {
        LicenseError(code: -20111, status: 403, message: "The \(field) of this client is not allowed by the handshake code.")
    }
    public static func badSessionPassword() -> LicenseError {
        LicenseError(code: -20112, status: 403, message: "The session password is wrong or missing.")
    }
    public static func tooManySessionPasswordGuesses() -> LicenseError {
        LicenseError(code: -20113, status: 429, message: "Too many wrong session passwords from this address; wait a minute.")
    }
    public static func quotaExhausted(_ product: String) -> LicenseError {
        LicenseError(code: -20120, status: 403, message: "The license quota for \(product) is used up.")
    }
    public static func expired(_ product: String) -> LicenseError {
        LicenseError(code: -20121, status: 403, message: "The license for \(product) has expired.")
    }
    public static func notYetValid(_ product: String) -> LicenseError {
        LicenseError(code: -20122, status: 403, message: "The license for \(product) is not valid yet.")
    }
    public static func noItem(_ product: String) -> LicenseError {
        LicenseError(code: -20123, status: 403, message: "The handshake code has no license item for \(product).")
    }
    public static func unknownGrant(_ grantId: String) -> LicenseError {
        LicenseError(code: -20130, status: 404, message: "No active lease has the grant ID \(grantId); it was released or expired.")
    }
    public static func badClientRequest(_ message: String) -> LicenseError {
        LicenseError(code: -20001, status: 400, message: message)
    }

    // MARK: License files (-203xx)

    public static func badSignature() -> LicenseError {
        LicenseError(code: -20300, status: 422, message: "The license file's signature is not valid; the file was changed or damaged.")
    }
    public static func unknownIssuer() -> LicenseError {
        LicenseError(code: -20301, status: 422, message: "The license file is signed by a vendor key this server does not trust (see trustedIssuers).")
    }
    public static func wrongBinding(_ boundTo: String, clusterUUID: String?, nodeUUID: String) -> LicenseError {
        let accepted = clusterUUID.map { "the cluster \($0) or this node \(nodeUUID)" } ?? "this node \(nodeUUID)"
        return LicenseError(code: -20302, status: 422, message: "The license file is bound to server \(boundTo), not to \(accepted).")
    }
    public static func malformedLicense(_ reason: String) -> LicenseError {
        LicenseError(code: -20303, status: 422, message: "The license file is malformed: \(reason).")
    }
    public static func alreadyImported(_ licenseId: String) -> LicenseError {
        LicenseError(code: -20304, status: 409, message: "The license \(licenseId) is already imported.")
    }
    public static func itemAlreadyExpired(_ itemId: String) -> LicenseError {
        LicenseError(code: -20305, status: 422, message: "The license item \(itemId) has already expired.")
    }

    // MARK: Handshake codes (-2031x)

    public static func handshakeExists(_ code: String) -> LicenseError {
        LicenseError(code: -20310, status: 409, message: "The handshake code \(code) exists already.")
    }
    public static func badHandshake(_ reason: String) -> LicenseError {
        LicenseError(code: -20311, status: 422, message: reason)
    }
    public static func unknownHandshake(_ code: String) -> LicenseError {
        LicenseError(code: -20312, status: 404, message: "There is no handshake code \(code).")
    }
}
