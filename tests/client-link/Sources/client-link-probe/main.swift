import LicenseClient

// Parsing a client key needs nothing from a server: what the binary links
// comes from LicenseClient alone.
let key = try? ClientKey(parsing: CommandLine.arguments.dropFirst().first ?? "")
print(key == nil ? "no client key given" : "client key parsed")
