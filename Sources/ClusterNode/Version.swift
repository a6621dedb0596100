/// The version of lts, shown by `lts --version` and the health endpoint.
enum Version {
    static let current = "0.1.0"
}
