import Foundation
import Platform

/// Files of a directory (the portal), read once at start and served from
/// memory with their content type.
///
/// Invariant: only regular files inside the directory are served; a path
/// with `..`, a hidden file or an unknown name is not found.
public struct StaticFiles {
    /// Largest file read into memory.
    public static let fileBytesMax = 4 << 20

    private let files: [String: (contentType: String, body: Data)]

    /// Reads every file under `directory` (recursively).
    public init(directory: String) throws {
        var files: [String: (String, Data)] = [:]
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey, .fileSizeKey],
                                                          options: [.skipsHiddenFiles]) else {
            throw TransportError("cannot read the directory \(directory)")
        }
        for case let url as URL in walker {
            let values = try url.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey])
            guard values.isRegularFile == true else { continue }
            guard (values.fileSize ?? 0) <= Self.fileBytesMax else {
                throw TransportError("\(url.path) is larger than \(Self.fileBytesMax) bytes")
            }
            let relative = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
            files[relative] = (Self.contentType(of: relative), try Data(contentsOf: url))
        }
        self.files = files
    }

    /// The file at `relativePath` ("" means `index.html`), if any.
    public func file(_ relativePath: String) -> (contentType: String, body: Data)? {
        let name = relativePath.isEmpty ? "index.html" : relativePath
        guard !name.split(separator: "/").contains(where: { $0 == ".." || $0.hasPrefix(".") }) else { return nil }
        return files[name]
    }

    static func contentType(of name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "html": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js": return "text/javascript; charset=utf-8"
        case "json": return "application/json"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "ico": return "image/x-icon"
        default: return "application/octet-stream"
        }
    }
}
