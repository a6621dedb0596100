import Foundation

/// An error answer: an HTTP status and the DLS-style `{"code","message"}`
/// body. Every error a client sees is one of these.
///
/// Invariant: `code` is negative and listed in the README's error table.
public struct APIError: Error, Equatable {
    public let status: Int
    public let code: Int
    public let message: String
    /// Extra JSON fields (e.g. `primary` on -20100).
    public let extra: [String: String]

    public init(status: Int, code: Int, message: String, extra: [String: String] = [:]) {
        precondition(code < 0, "API error codes are negative")
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra
    }

    /// The JSON body sent to the client.
    public var body: Data {
        var object: [String: Any] = ["code": code, "message": message]
        for (key, value) in extra { object[key] = value }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }

    // MARK: Transport-level errors (-200xx)

    public static func badRequest(_ message: String) -> APIError {
        APIError(status: 400, code: -20001, message: message)
    }

    public static func notFound(_ path: String) -> APIError {
        APIError(status: 404, code: -20002, message: "No such resource: \(path)")
    }

    public static func methodNotAllowed(_ method: String, allowed: [String]) -> APIError {
        APIError(status: 405, code: -20003, message: "Method \(method) is not allowed here; use \(allowed.joined(separator: ", ")).")
    }

    public static func bodyTooLarge(limitBytes: Int) -> APIError {
        APIError(status: 413, code: -20004, message: "The request body is larger than the \(limitBytes) bytes this path accepts.")
    }

    public static func unavailable(_ message: String) -> APIError {
        APIError(status: 503, code: -20005, message: message)
    }
}
