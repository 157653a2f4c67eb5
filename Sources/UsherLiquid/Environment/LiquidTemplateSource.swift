import Foundation

/// Where `include`, `render` and `layout` find other templates. The host implements it over its
/// storage (Usher: per-tenant templates in the database); two implementations are provided.
public protocol LiquidTemplateSource: Sendable {
    /// The source text of the template called `name` (exactly as written in the tag), or `nil` when
    /// there is no such template. Throwing aborts the render.
    func templateSource(named name: String) throws -> String?
}

/// Templates held in memory, looked up by exact name.
public struct LiquidInMemoryTemplateSource: LiquidTemplateSource {
    public var templates: [String: String]

    public init(_ templates: [String: String] = [:]) {
        self.templates = templates
    }

    public func templateSource(named name: String) -> String? {
        templates[name]
    }
}

/// Templates read from files under a root directory: `name` is tried as given, then with the
/// extension appended (`footer` → `footer.liquid`).
///
/// Names are confined to the root: absolute paths, `..` segments, backslashes and NUL bytes are
/// refused, so a template cannot read arbitrary files through `include`.
public struct LiquidDirectoryTemplateSource: LiquidTemplateSource {
    public let root: URL
    public let fileExtension: String

    public init(root: URL, fileExtension: String = "liquid") {
        self.root = root.standardizedFileURL
        self.fileExtension = fileExtension
    }

    public func templateSource(named name: String) throws -> String? {
        guard Self.isSafe(name) else { return nil }
        var candidates = [name]
        if !fileExtension.isEmpty && !name.hasSuffix("." + fileExtension) {
            candidates.append(name + "." + fileExtension)
        }
        for candidate in candidates {
            let url = root.appendingPathComponent(candidate).standardizedFileURL
            guard url.path.hasPrefix(root.path) else { return nil }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            return try String(contentsOf: url, encoding: .utf8)
        }
        return nil
    }

    static func isSafe(_ name: String) -> Bool {
        guard !name.isEmpty, !name.hasPrefix("/"), !name.contains("\\"), !name.contains("\0") else { return false }
        return !name.split(separator: "/", omittingEmptySubsequences: false).contains { $0 == ".." || $0.isEmpty }
    }
}
