import Foundation

/// What `lts cluster init` and `join` make in a data dir (the certificate,
/// the node UUID, the invitation) while run as root goes to the data dir's
/// owner, the user the node runs as (`lts` from the package): otherwise the
/// node could not read its own key.
///
/// Invariant: only a root process changes owners, and only of entries
/// inside the data dir whose owner differs from the data dir's.
enum DataDirectoryOwner {
    static func restore(_ dataDir: String) {
        var directory = stat()
        guard geteuid() == 0, stat(dataDir, &directory) == 0, directory.st_uid != 0 || directory.st_gid != 0,
              let entries = FileManager.default.enumerator(atPath: dataDir) else { return }
        for case let entry as String in entries {
            let path = dataDir + "/" + entry
            var status = stat()
            guard lstat(path, &status) == 0, status.st_uid != directory.st_uid || status.st_gid != directory.st_gid else { continue }
            _ = lchown(path, directory.st_uid, directory.st_gid)
        }
    }
}
