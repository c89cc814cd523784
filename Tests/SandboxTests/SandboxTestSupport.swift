import Foundation
import Testing
import TestSupport
@testable import Sandbox

/// A response as the tests see it.
struct Reply: Sendable {
    var status: Int
    var headers: [String: String]
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: Any? { try? JSONSerialization.jsonObject(with: body) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Why a curl call produced no HTTP response (e.g. a dropped connection).
struct CurlFailure: Error { var exitCode: Int32; var message: String }

/// A tiny HTTP client over the `curl` CLI, so these tests need no other module.
/// Tokens travel in headers read from a config on stdin, never in argv.
enum Curl {
    static func request(_ method: String, _ url: String, headers: [String: String] = [:], body: String? = nil,
                        contentType: String = "application/json", timeout: Int = 20) async throws -> Reply {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sbx-curl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let headerFile = dir.appendingPathComponent("headers"), bodyFile = dir.appendingPathComponent("body")
        var config = "silent\nshow-error\nrequest = \"\(method)\"\nurl = \"\(url)\"\nmax-time = \(timeout)\n"
        config += "dump-header = \"\(headerFile.path)\"\noutput = \"\(bodyFile.path)\"\nwrite-out = \"%{http_code}\"\n"
        var allHeaders = headers
        if let body {
            allHeaders["Content-Type"] = contentType
            try Data(body.utf8).write(to: dir.appendingPathComponent("request"))
            config += "data-binary = \"@\(dir.appendingPathComponent("request").path)\"\n"
        }
        for (name, value) in allHeaders { config += "header = \"\(name): \(value)\"\n" }
        let result = try await ProcessRunner.runAsync("/usr/bin/env", ["curl", "--config", "-"], stdin: Data(config.utf8))
        guard result.status == 0 else { throw CurlFailure(exitCode: result.status, message: result.errorText) }
        var parsed: [String: String] = [:]
        let raw = (try? String(contentsOf: headerFile, encoding: .utf8)) ?? ""
        for line in raw.components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            parsed[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        }
        return Reply(status: Int(result.output) ?? 0, headers: parsed, body: (try? Data(contentsOf: bodyFile)) ?? Data())
    }
}

/// A started sandbox with an admin, a maintainer bot, a developer, a reporter and a seeded project.
struct Fixture: Sendable {
    let sandbox: Sandbox
    let directory: URL
    static let botToken = "bot-token-\(UUID().uuidString.prefix(8))"
    static let devToken = "dev-token-\(UUID().uuidString.prefix(8))"
    static let reporterToken = "rep-token-\(UUID().uuidString.prefix(8))"
    static let adminToken = "adm-token-\(UUID().uuidString.prefix(8))"
    static let project = "group/deploy"

    var api: String { sandbox.baseURL.absoluteString + "/api/v4" }
    var projectAPI: String { api + "/projects/group%2Fdeploy" }

    /// Runs `body` against a fresh, seeded sandbox (through `withSandbox`, which shuts it down and removes
    /// its folder on every path); `directory` is the test's scratch folder.
    static func with(mergeMethod: SandboxMergeMethod = .merge, _ body: (Fixture) async throws -> Void) async throws {
        try await withSandbox("sandbox-test") { sandbox, folder in
            sandbox.addUser("bot", token: botToken, role: .maintainer)
            sandbox.addUser("dev", token: devToken, role: .developer)
            sandbox.addUser("reader", token: reporterToken, role: .reporter)
            sandbox.addUser("boss", token: adminToken, role: .admin)
            try sandbox.createProject(path: project, files: ["apps/web/deployment.yaml": "image: web:1.0.0\n"], mergeMethod: mergeMethod)
            try await body(Fixture(sandbox: sandbox, directory: folder))
        }
    }

    func call(_ method: String, _ path: String, token: String? = Fixture.botToken, json: String? = nil, form: String? = nil) async throws -> Reply {
        var headers: [String: String] = [:]
        if let token { headers["PRIVATE-TOKEN"] = token }
        if let form { return try await Curl.request(method, projectAPI + path, headers: headers, body: form, contentType: "application/x-www-form-urlencoded") }
        return try await Curl.request(method, projectAPI + path, headers: headers, body: json)
    }

    /// Creates branch `name` with one commit and an MR from it; returns the MR JSON.
    @discardableResult
    func openMR(_ name: String, title: String? = nil, file: String = "apps/web/deployment.yaml", content: String? = nil,
                extra: String = "", token: String = Fixture.botToken) async throws -> [String: Any] {
        try sandbox.commit(project: Fixture.project, branch: name, files: [file: content ?? "image: web:\(name)\n"], message: "bump \(name)")
        let reply = try await call("POST", "/merge_requests", token: token,
                                   json: #"{"title":"\#(title ?? "Bump \(name)")","source_branch":"\#(name)","target_branch":"main"\#(extra)}"#)
        #expect(reply.status == 201, "create MR: \(reply.text)")
        return reply.object
    }
}
