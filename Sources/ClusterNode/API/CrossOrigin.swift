import Foundation
import LicenseState
import Transport

/// Calls from web pages of other origins (CORS). The client API answers a
/// page whose domain some handshake code's validation allows (any page when
/// a code allows any domain), with that page's origin in
/// `Access-Control-Allow-Origin`; for such a call the domain validated and
/// counted is the origin's, which the browser sets, not one in the body.
/// The admin API answers no origin but its own.
///
/// Invariant: `Access-Control-Allow-Origin` names only the request's own
/// `Origin`, never `*`, and only on client routes; credentials are never
/// allowed cross-origin.
enum CrossOrigin {
    /// How long a browser may keep a preflight's answer.
    static let preflightMaxAgeSeconds = 600

    /// The host of an origin (`https://shop.example.com:8443` gives
    /// `shop.example.com`), or nil for anything else (`null`, a path).
    static func host(ofOrigin origin: String) -> String? {
        guard let components = URLComponents(string: origin), ["https", "http"].contains(components.scheme ?? ""),
              let host = components.host, !host.isEmpty, components.path.isEmpty, components.query == nil,
              components.user == nil else { return nil }
        return host.lowercased()
    }

    /// The headers that let the page of `request`'s origin read the answer,
    /// when some handshake code allows its domain (none otherwise, and
    /// none for a request without `Origin`).
    static func clientHeaders(for request: HTTPRequest, state: LicenseState) -> [(String, String)] {
        guard let origin = request.header("origin"), let host = host(ofOrigin: origin),
              state.handshakes.values.contains(where: { !$0.deleted && $0.validation.allowsDomain(host) }) else { return [] }
        return [("access-control-allow-origin", origin), ("vary", "Origin")]
    }

    /// A preflight (`OPTIONS`) of a client route: 204 with what the page may
    /// send, or 403 for an origin no handshake code allows.
    static func answerPreflight(_ request: HTTPRequest, state: LicenseState) {
        let allowed = clientHeaders(for: request, state: state)
        guard !allowed.isEmpty else {
            return request.respond(error: APIError(status: 403, code: -20111,
                                                   message: "No handshake code allows calls from the web page's origin \(request.header("origin") ?? "(none)")."))
        }
        request.respond(status: 204, headers: allowed + [
            ("access-control-allow-methods", "POST"),
            ("access-control-allow-headers", "content-type"),
            ("access-control-max-age", String(preflightMaxAgeSeconds)),
        ], body: Data())
    }

    /// A client call from a web page takes its domain from the page's
    /// origin; a body naming another domain is refused (-20111).
    static func call(_ call: ClientCall, origin: String?) throws -> ClientCall {
        guard let origin else { return call }
        guard let host = host(ofOrigin: origin) else { throw LicenseError.validationMismatch("origin") }
        if let domain = call.domain, domain.lowercased() != host { throw LicenseError.validationMismatch("domain") }
        var fromPage = call
        fromPage.domain = host
        return fromPage
    }

    /// Whether an admin request comes from the node's own pages: no
    /// `Origin`, or one whose host and port are the request's `Host`.
    static func isSameOrigin(_ request: HTTPRequest) -> Bool {
        guard let origin = request.header("origin") else { return true }
        let requested = request.authority
        guard let components = URLComponents(string: origin), let host = components.host, !requested.isEmpty else { return false }
        let port = components.port.map { ":\($0)" } ?? ""
        let originHost = host.contains(":") ? "[\(host)]" : host
        return (originHost + port).lowercased() == requested.lowercased()
    }

    static func crossOriginAdmin(_ origin: String) -> APIError {
        APIError(status: 403, code: -20208, message: "The admin API answers only the portal of this node, not a page of \(origin).")
    }
}
