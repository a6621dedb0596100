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
    /// A customer's handshake code for the load (nil: the drill item, which uses no quota).
    let code: String?
    /// The product the load asks for under `code` (nil: the product of the code's first item).
    let product: String?
    /// How long the load runs in all, in seconds: half before the fault, the rest after the takeover.
    let seconds: Double
    /// Longest wait for a pair that is still electing or attaching before the drill starts, in seconds.
    let readySeconds: Double
    /// Longest wait for any one step, in seconds.
    let stepTimeout: Double
    /// Print the report as one JSON object.
    let json: Bool

    public init(urls: [String], password: String, pairDir: String?, trusts: [TLSTrust], clients: Int, code: String?, product: String?,
                seconds: Double, readySeconds: Double, stepTimeout: Double, json: Bool) {
        self.urls = urls
        self.password = password
        self.pairDir = pairDir
        self.trusts = trusts
        self.clients = clients
        self.code = code
        self.product = product
        self.seconds = seconds
        self.readySeconds = readySeconds
        self.stepTimeout = stepTimeout
        self.json = json
    }
}
