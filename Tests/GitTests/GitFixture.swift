import Foundation
@testable import Git

/// A fresh temporary folder with a bare `origin.git`, a work clone to make commits with the git CLI,
/// and a `cache` folder for `RepositoryCache`. Removed in `deinit`.
final class GitFixture: @unchecked Sendable {
    let root: URL
    var origin: URL { root.appendingPathComponent("origin.git") }
    var work: URL { root.appendingPathComponent("work") }
    var cacheRoot: URL { root.appendingPathComponent("cache") }

    init() throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("promobot-git-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try git("init", "--bare", "-q", "-b", "main", origin.path)
        try git("init", "-q", "-b", "main", work.path)
        try git("-C", work.path, "remote", "add", "origin", origin.path)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// Runs `/usr/bin/git` with an isolated HOME and returns trimmed stdout; throws with stderr on failure.
    @discardableResult
    func git(_ arguments: String..., environment extra: [String: String] = [:]) throws -> String {
        try Self.run(arguments, home: root, environment: extra)
    }

    static func run(_ arguments: [String], home: URL, environment extra: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = ["-c", "user.name=Tester", "-c", "user.email=tester@example.com",
                             "-c", "init.defaultBranch=main"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = home.path
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError(message: "git \(arguments.joined(separator: " ")) failed: \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes `files` into the work clone, commits them at `date` and pushes to `branch`; returns the commit.
    @discardableResult
    func commit(_ files: [String: String], message: String = "change", date: Date = Date(),
                branch: String = "main") throws -> ObjectID {
        for (path, text) in files {
            let url = work.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        let stamp = "@\(Int(date.timeIntervalSince1970)) +0000"
        try git("-C", work.path, "add", "-A")
        try git("-C", work.path, "commit", "-q", "--allow-empty", "-m", message,
                environment: ["GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp])
        try git("-C", work.path, "push", "-q", "-f", "origin", "HEAD:refs/heads/\(branch)")
        return try requireID(git("-C", work.path, "rev-parse", "HEAD"))
    }

    /// The origin's tip of `branch`, or nil when it does not exist.
    func originTip(_ branch: String) throws -> ObjectID? {
        let out = try git("-C", origin.path, "for-each-ref", "--format=%(objectname)", "refs/heads/\(branch)")
        return out.isEmpty ? nil : ObjectID(hex: out)
    }

    func makeCache() -> RepositoryCache {
        RepositoryCache(root: cacheRoot, options: GitTransportOptions(proxyFromEnvironment: false))
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

func requireID(_ hex: String) throws -> ObjectID {
    guard let id = ObjectID(hex: hex) else { throw FixtureError(message: "not an object id: \(hex)") }
    return id
}
