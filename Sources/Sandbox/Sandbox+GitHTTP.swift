import Foundation

// Git smart HTTP at `<base>/<group>/<name>.git/...`, served by `git http-backend` (CGI).
extension Sandbox {
    static let basicDenied = "HTTP Basic: Access denied. If a password was provided for Git authentication, the password was incorrect or you're required to use a token instead of a password. If a token was provided, it was either incorrect, expired, or improperly scoped. See http://127.0.0.1/help/topics/git/troubleshooting_git.md#error-on-git-fetch-http-basic-access-denied"

    func handleGitHTTP(_ req: SandboxRequest) -> SandboxResponse {
        guard let range = req.path.range(of: ".git/") else { return .routeNotFound }
        let projectPath = String(req.path[req.path.index(after: req.path.startIndex)..<range.lowerBound]).removingPercentEncoding ?? ""
        let denied = SandboxResponse.text(401, Self.basicDenied, headers: [("WWW-Authenticate", "Basic realm=\"GitLab\"")])
        guard let auth = req.header("authorization"), auth.lowercased().hasPrefix("basic "),
              let decoded = Data(base64Encoded: String(auth.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
              let credentials = String(data: decoded, encoding: .utf8),
              let colon = credentials.firstIndex(of: ":") else { return denied }
        let password = String(credentials[credentials.index(after: colon)...])
        guard !password.isEmpty, let user = user(forToken: password) else { return denied }
        guard let project = state.withLock({ $0.project(projectPath) }) else {
            return .text(404, "The project you were looking for could not be found or you don't have permission to view it.")
        }
        let isPush = req.path.hasSuffix("/git-receive-pack") || req.params.string("service") == "git-receive-pack"
        if isPush && !user.role.canWrite {
            return .text(403, "You are not allowed to push code to this project.")
        }
        var env = GitRepository.baseEnvironment
        env["GIT_PROJECT_ROOT"] = reposRoot.path
        env["GIT_HTTP_EXPORT_ALL"] = "1"
        env["PATH_INFO"] = "/" + project.path + ".git/" + req.path[range.upperBound...]
        env["REQUEST_METHOD"] = req.method
        env["QUERY_STRING"] = req.query
        env["CONTENT_TYPE"] = req.header("content-type") ?? ""
        env["CONTENT_LENGTH"] = String(req.body.count)
        env["REMOTE_USER"] = user.username
        env["REMOTE_ADDR"] = "127.0.0.1"
        env["SANDBOX_ROLE_LEVEL"] = String(user.role.accessLevel)
        if let encoding = req.header("content-encoding") { env["HTTP_CONTENT_ENCODING"] = encoding }
        if let protocolHeader = req.header("git-protocol") { env["GIT_PROTOCOL"] = protocolHeader }
        // The post-receive hook writes the refs a push updated here, for Push Hooks.
        let pushLog = req.method == "POST" && req.path.hasSuffix("/git-receive-pack")
            ? FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-push-\(UUID().uuidString)") : nil
        if let pushLog { env["SANDBOX_PUSH_LOG"] = pushLog.path }
        let result: ProcessResult
        do {
            result = try ProcessRunner.run("/usr/bin/env", ["git", "http-backend"], environment: env, stdin: req.body)
        } catch {
            return .text(500, "git http-backend could not start: \(error)")
        }
        if let pushLog {
            let updates = (try? String(contentsOf: pushLog, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: pushLog)
            for line in updates.split(separator: "\n") {
                let fields = line.split(separator: " ").map(String.init)
                guard fields.count == 3 else { continue }
                refMoved(projectID: project.id, ref: fields[2], from: fields[0] == Self.zeroSHA ? nil : fields[0],
                         to: fields[1] == Self.zeroSHA ? nil : fields[1], userID: user.id)
            }
        }
        return Self.parseCGI(result.stdout)
    }

    /// Splits CGI output into status, headers and body.
    static func parseCGI(_ output: Data) -> SandboxResponse {
        let bytes = [UInt8](output)
        var headerEnd = bytes.count, bodyStart = bytes.count
        for i in 0..<bytes.count {
            if bytes[i] == 10 {
                if i + 1 < bytes.count, bytes[i + 1] == 10 { headerEnd = i; bodyStart = i + 2; break }
                if i + 2 < bytes.count, bytes[i + 1] == 13, bytes[i + 2] == 10 { headerEnd = i; bodyStart = i + 3; break }
            }
        }
        let head = String(decoding: bytes[0..<headerEnd], as: UTF8.self)
        var response = SandboxResponse(status: 200)
        for line in head.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let colon = text.firstIndex(of: ":") else { continue }
            let name = String(text[..<colon]).trimmingCharacters(in: .whitespaces)
            let value = String(text[text.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            if name.lowercased() == "status" {
                response.status = Int(value.prefix(3)) ?? 500
            } else {
                response.headers.append((name, value))
            }
        }
        response.body = bodyStart < bytes.count ? Data(bytes[bodyStart...]) : Data()
        return response
    }
}
