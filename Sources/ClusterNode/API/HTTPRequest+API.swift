import Foundation
import LicenseState
import Transport

/// A route as the node's API types declare it.
typealias RouteSpec = (method: String, pattern: String, route: HTTPServer.Route)

extension HTTPRequest {
    /// The body as a JSON object reader; a malformed body is a 400 `APIError`.
    func jsonObject() throws -> JSONObjectReader {
        do {
            return try JSONObjectReader.parse(body)
        } catch {
            throw APIError.badRequest("The body must be a JSON object.")
        }
    }

    /// Sends a domain refusal with its code and status.
    func respond(licenseError error: LicenseError) {
        respond(error: APIError(status: error.status, code: error.code, message: error.message))
    }

    /// Runs `body`, answering any `APIError`, `JSONFieldError` or
    /// `LicenseError` it throws.
    /// - Parameter onRefusal: called with the code of the answer to an error `body` threw, before it is sent.
    func handling(onRefusal: ((Int) -> Void)? = nil, _ body: () throws -> Void) {
        do {
            try body()
        } catch {
            let answer = Self.answer(to: error)
            onRefusal?(answer.code)
            respond(error: answer)
        }
    }

    /// The error answer to an error a handler threw.
    static func answer(to error: Error) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as JSONFieldError: return .badRequest("The field \"\(error.key)\" \(error.reason).")
        case let error as LicenseError: return APIError(status: error.status, code: error.code, message: error.message)
        default: return APIError(status: 500, code: -20009, message: "Internal error: \(error)")
        }
    }
}

extension JSONObjectReader {
    /// A required string of 1 to `maxBytes` bytes.
    mutating func required(_ key: String, maxBytes: Int = 256) throws -> String {
        guard let value = try optional(key, maxBytes: maxBytes) else { throw JSONFieldError(key: key, reason: "is required") }
        return value
    }

    /// An optional string of 1 to `maxBytes` bytes.
    mutating func optional(_ key: String, maxBytes: Int = 256) throws -> String? {
        guard let value = try string(key) else { return nil }
        guard !value.isEmpty, value.utf8.count <= maxBytes else {
            throw JSONFieldError(key: key, reason: "must be 1 to \(maxBytes) bytes long")
        }
        return value
    }
}
