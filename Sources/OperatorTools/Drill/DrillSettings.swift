import Platform
import Transport

/// What a drill runs with: the pair, how to trust and log into it, the load.
public struct DrillSettings {
    /// The pair's servers in order, main first.
    let urls: [String]
    /// The admin password (the same on both nodes).
    let password: String
    /// The directory of a pair started by `lts pair`, where its pid files are.
    let pairDir: String?
    /// The trust for each server, in order.
    let trusts: [TLSTrust]
    /// Concurrent clients of the built-in load.
    let clients: Int
    /// The handshake code of the load (nil: the primary's first).
    let code: String?
    /// The product the load asks for (nil: the product of the code's first item).
    let product: String?
    /// Longest wait for any one step, in seconds.
    let stepTimeout: Double
    /// Print the report as one JSON object.
    let json: Bool

    public init(urls: [String], password: String, pairDir: String?, trusts: [TLSTrust], clients: Int, code: String?, product: String?,
                stepTimeout: Double, json: Bool) {
        self.urls = urls
        self.password = password
        self.pairDir = pairDir
        self.trusts = trusts
        self.clients = clients
        self.code = code
        self.product = product
        self.stepTimeout = stepTimeout
        self.json = json
    }
}
