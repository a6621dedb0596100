import Foundation
import LicenseState
import Transport

/// The JSON body of a client's authorize or report call, read strictly.
///
/// Invariant: a value exists only for a JSON object with the call's
/// required fields, every field of its type and within its size, and no
/// unknown field; anything else throws (an `APIError` 400 or a field
/// error), never traps.
public struct ClientCallBody {
    public let call: ClientCall
    public let sessionPassword: String?

    public static func read(_ data: Data, kind: Grant.Kind) throws -> ClientCallBody {
        var body: JSONObjectReader
        do {
            body = try JSONObjectReader.parse(data)
        } catch {
            throw APIError.badRequest("The body must be a JSON object.")
        }
        let call = ClientCall(
            handshakeCode: try body.required("handshakeCode", maxBytes: Handshake.codeLengthMax),
            clientUUID: try body.required("clientUUID", maxBytes: 128),
            product: kind == .authorize ? try body.required("product", maxBytes: 64) : nil,
            requestId: try body.optional("requestId", maxBytes: 128),
            scans: try body.integer("scans", in: 1...Int(ClientCall.scansMax)).map(Int64.init) ?? 1,
            domain: try body.optional("domain"),
            appId: try body.optional("appId"),
            process: try body.optional("process"),
            attempt: try body.integer("attempt", in: ClientCall.attemptRange))
        let password = try body.optional("sessionPassword", maxBytes: PasswordHasher.passwordLengthMax)
        if kind == .report { _ = try body.optional("grantId", maxBytes: 128) }
        try body.rejectUnknownKeys()
        return ClientCallBody(call: call, sessionPassword: password)
    }
}
