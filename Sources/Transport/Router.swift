/// Maps a method and a path to a handler, with `{name}` path parameters and a
/// trailing `*` that matches the rest of the path.
///
/// Invariant: every route is reachable under each of `prefixes` (by default
/// `/dls` and `/lts`) and nowhere else; one method and pattern has at most
/// one handler.
public struct Router<Handler> {
    /// The URL prefixes every route is served under (DESIGN.md §7).
    public static var defaultPrefixes: [String] { ["/dls", "/lts"] }

    /// What the router decided for one request.
    public enum Match {
        /// `route` numbers the pattern in `patterns`.
        case found(Handler, parameters: [String: String], route: Int)
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    private enum Segment: Equatable {
        case literal(String)
        case parameter(String)
        case rest
    }

    private struct Entry {
        let method: String
        let segments: [Segment]
        let handler: Handler
        let route: Int
    }

    private let prefixes: [String]
    /// The patterns as added (one entry for all methods of a pattern).
    public private(set) var patterns: [String] = []
    /// Patterns with parameters or `*`, tried in order.
    private var entries: [Entry] = []
    /// Patterns made of literals only, by their path: found without splitting
    /// the request path (the common case, e.g. health and authorize).
    private var literals: [String: [Entry]] = [:]

    public init(prefixes: [String] = Router.defaultPrefixes) {
        self.prefixes = prefixes
    }

    /// Adds a route. `pattern` is relative to the prefixes, e.g.
    /// `/api/admin/handshakes/{code}` or `/page/*`.
    public mutating func add(_ method: String, _ pattern: String, _ handler: Handler) {
        let segments = Self.split(Substring(pattern)).map { part -> Segment in
            if part == "*" { return .rest }
            if part.hasPrefix("{"), part.hasSuffix("}") { return .parameter(String(part.dropFirst().dropLast())) }
            return .literal(part)
        }
        if let restIndex = segments.firstIndex(of: .rest) {
            precondition(restIndex == segments.count - 1, "`*` must end the pattern \(pattern)")
        }
        let route = patterns.firstIndex(of: pattern) ?? patterns.count
        if route == patterns.count { patterns.append(pattern) }
        let entry = Entry(method: method, segments: segments, handler: handler, route: route)
        let literalPath = Self.literalPath(segments)
        let existing = literalPath.map { literals[$0] ?? [] } ?? entries
        precondition(!existing.contains { $0.method == method && $0.segments == segments }, "duplicate route \(method) \(pattern)")
        if let literalPath {
            literals[literalPath, default: []].append(entry)
        } else {
            entries.append(entry)
        }
    }

    /// Finds the handler for `method` and `path` (the path without query).
    public func match(method: String, path: String) -> Match {
        guard let relative = stripPrefix(path) else { return .notFound }
        var allowed: [String] = []
        for entry in literals[String(relative)] ?? [] {
            if Self.accepts(entry, method) { return .found(entry.handler, parameters: [:], route: entry.route) }
            allowed.append(entry.method)
        }
        let parts = Self.split(relative)
        // `/page/` and `/page` differ: only a pattern ending in `*` takes a trailing slash.
        let trailingSlash = relative.count > 1 && relative.hasSuffix("/")
        for entry in entries where !trailingSlash || entry.segments.last == .rest {
            guard let parameters = Self.bind(entry.segments, to: parts) else { continue }
            if Self.accepts(entry, method) {
                return .found(entry.handler, parameters: parameters, route: entry.route)
            }
            if !allowed.contains(entry.method) { allowed.append(entry.method) }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    private static func accepts(_ entry: Entry, _ method: String) -> Bool {
        entry.method == method || (method == "HEAD" && entry.method == "GET")
    }

    /// `/a/b` for a pattern of literals only, nil when it has a parameter or `*`.
    private static func literalPath(_ segments: [Segment]) -> String? {
        var path = ""
        for segment in segments {
            guard case .literal(let text) = segment else { return nil }
            path += "/" + text
        }
        return path.isEmpty ? "/" : path
    }

    private func stripPrefix(_ path: String) -> Substring? {
        for prefix in prefixes where path.hasPrefix(prefix) {
            let rest = path.dropFirst(prefix.count)
            if rest.isEmpty || rest.hasPrefix("/") { return rest }
        }
        return nil
    }

    private static func split(_ path: Substring) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    private static func bind(_ segments: [Segment], to parts: [String]) -> [String: String]? {
        var parameters: [String: String] = [:]
        for (index, segment) in segments.enumerated() {
            switch segment {
            case .rest:
                parameters["*"] = parts[index...].joined(separator: "/")
                return parameters
            case .literal(let text):
                guard index < parts.count, parts[index] == text else { return nil }
            case .parameter(let name):
                guard index < parts.count, let value = parts[index].removingPercentEncoding, !value.isEmpty else { return nil }
                parameters[name] = value
            }
        }
        return parts.count == segments.count ? parameters : nil
    }
}
