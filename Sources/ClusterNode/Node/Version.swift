/// The version of lts, shown by `lts --version` and the health endpoint.
public enum Version {
    public static let current = "0.1.0"
}
