import Foundation
import Manifests

// A minimal OCI distribution endpoint (apis.md §15, §18) on the sandbox's host: `GET /v2/`, manifests by tag and by
// digest (HEAD and GET), the tags list with `n`/`last` and `Link`, and, when switched on, GitLab-style token auth
// (`/jwt/auth`, service `container_registry`, Basic with a sandbox user's name and token). Tests push and re-push
// tags in-process; faults (`injectFault`) apply to these paths like to any other.

/// The registry's in-memory model, guarded by `Sandbox.state`.
struct RegistryState: Sendable {
    struct Manifest: Sendable {
        var mediaType: String
        var body: Data
    }
    /// Repository (`oms/app`) -> tag -> digest.
    var tags: [String: [String: String]] = [:]
    /// Repository -> digest -> manifest.
    var manifests: [String: [String: Manifest]] = [:]
    /// Whether requests need a token from `/jwt/auth`.
    var tokenAuth = false
    /// Tokens handed out: token -> (who, expiry). Anonymous tokens carry no pull right.
    var tokens: [String: (username: String?, expires: Date)] = [:]
    /// Seconds a token lives (`expires_in`; nil: omitted, as GitLab does).
    var tokenLifetime: Int? = nil
    /// Whether HEAD answers leave out `Docker-Content-Digest` (an older registry), so clients fall back to GET.
    var omitDigestOnHead = false
    /// Pushes so far; makes every pushed manifest unique.
    var pushes = 0
}

extension Sandbox {
    /// The token service name, as GitLab's registry names it.
    static let registryService = "container_registry"

    // MARK: - Test controls

    /// Pushes an image manifest for `repository:tag` (`oms/app`, `1.5.0`) and returns its digest. Pushing the same
    /// tag again makes a new manifest with a new digest: the tag moves, as after a re-push in CI.
    @discardableResult
    public func pushImage(_ repository: String, tag: String) -> String {
        state.withLock { s in
            s.registry.pushes += 1
            let config = SHA256.digest(Data("\(repository):\(tag) build \(s.registry.pushes)".utf8))
            let layer = SHA256.digest(Data("layer \(repository) \(s.registry.pushes)".utf8))
            let body = Data("""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
            "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(config)","size":1024},\
            "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"\(layer)","size":4096}]}
            """.utf8)
            let digest = SHA256.digest(body)
            s.registry.manifests[repository, default: [:]][digest] = .init(mediaType: "application/vnd.oci.image.manifest.v1+json", body: body)
            s.registry.tags[repository, default: [:]][tag] = digest
            return digest
        }
    }

    /// The digest `repository:tag` points at, or nil.
    public func imageDigest(_ repository: String, tag: String) -> String? {
        state.withLock { $0.registry.tags[repository]?[tag] }
    }

    /// Removes a tag (its manifest stays, reachable by digest).
    public func deleteImageTag(_ repository: String, tag: String) {
        state.withLock { _ = $0.registry.tags[repository]?.removeValue(forKey: tag) }
    }

    /// Switches token auth on or off: with it, `/v2/` requests need a Bearer token from `<base>/jwt/auth`, which
    /// hands pull tokens to sandbox users (Basic: username and their API token) and right-less ones to anonymous
    /// callers. `lifetime` is the token's `expires_in` (nil leaves it out, as GitLab does).
    public func setRegistryTokenAuth(_ on: Bool, lifetime: Int? = nil) {
        state.withLock {
            $0.registry.tokenAuth = on
            $0.registry.tokenLifetime = lifetime
            $0.registry.tokens.removeAll()
        }
    }

    /// Makes HEAD answers leave out `Docker-Content-Digest`, as some older registries do.
    public func setRegistryOmitsDigestOnHead(_ omit: Bool) {
        state.withLock { $0.registry.omitDigestOnHead = omit }
    }

    /// The registry as a URL for a config's `registries.<host>.url` (the sandbox's own root).
    public var registryURL: URL { baseURL }

    // MARK: - Routes

    /// `/v2/...` and `/jwt/auth`.
    func handleRegistry(_ req: SandboxRequest) -> SandboxResponse {
        if req.path == "/jwt/auth" { return handleRegistryToken(req) }
        let rest = String(req.path.dropFirst("/v2".count))
        if rest.isEmpty || rest == "/" {
            if let denied = registryAuthFailure(req, repository: nil) { return denied }
            return registryJSON(200, [:])
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if parts.count >= 3, parts[parts.count - 2] == "tags", parts.last == "list" {
            let repository = parts.dropLast(2).joined(separator: "/")
            if let denied = registryAuthFailure(req, repository: repository) { return denied }
            return tagsList(req, repository: repository)
        }
        guard parts.count >= 3, parts[parts.count - 2] == "manifests" else { return registryError(404, "NAME_UNKNOWN", "repository name not known to registry") }
        let repository = parts.dropLast(2).joined(separator: "/")
        let reference = (parts.last ?? "").removingPercentEncoding ?? ""
        if let denied = registryAuthFailure(req, repository: repository) { return denied }
        guard req.method == "GET" || req.method == "HEAD" else { return registryError(405, "UNSUPPORTED", "the operation is unsupported") }
        let (known, digest, manifest, omit) = state.withLock { s -> (Bool, String?, RegistryState.Manifest?, Bool) in
            let known = s.registry.tags[repository] != nil || s.registry.manifests[repository] != nil
            let digest = reference.hasPrefix("sha256:") ? reference : s.registry.tags[repository]?[reference]
            return (known, digest, digest.flatMap { s.registry.manifests[repository]?[$0] }, s.registry.omitDigestOnHead)
        }
        guard known else { return registryError(404, "NAME_UNKNOWN", "repository name not known to registry") }
        guard let digest, let manifest else { return registryError(404, "MANIFEST_UNKNOWN", "manifest unknown") }
        var headers: [(String, String)] = [("Content-Type", manifest.mediaType), ("Docker-Distribution-API-Version", "registry/2.0"),
                                           ("Etag", "\"\(digest)\"")]
        if !(omit && req.method == "HEAD") { headers.append(("Docker-Content-Digest", digest)) }
        return SandboxResponse(status: 200, headers: headers, body: manifest.body)
    }

    /// `GET /v2/<name>/tags/list[?n=&last=]`: lexical order, `last` exclusive, `Link` when more remain.
    private func tagsList(_ req: SandboxRequest, repository: String) -> SandboxResponse {
        guard let all = state.withLock({ $0.registry.tags[repository] }) else {
            return registryError(404, "NAME_UNKNOWN", "repository name not known to registry")
        }
        var tags = all.keys.sorted()
        if let last = req.params.string("last") { tags = tags.filter { $0 > last } }
        var headers: [(String, String)] = []
        if let text = req.params.string("n") {
            guard let n = Int(text), n >= 0 else { return registryError(400, "PAGINATION_NUMBER_INVALID", "invalid number of results requested") }
            if tags.count > n {
                tags = Array(tags.prefix(n))
                if let last = tags.last { headers.append(("Link", "</v2/\(repository)/tags/list?n=\(n)&last=\(last)>; rel=\"next\"")) }
            }
        }
        return registryJSON(200, ["name": .string(repository), "tags": .strings(tags)], headers: headers)
    }

    /// Nil when the request may go on; else the 401 challenge or the 403 for a token without pull rights.
    private func registryAuthFailure(_ req: SandboxRequest, repository: String?) -> SandboxResponse? {
        let now = self.now
        let (on, holder) = state.withLock { s -> (Bool, (username: String?, expires: Date)?) in
            guard s.registry.tokenAuth else { return (false, nil) }
            guard let header = req.header("authorization"), header.lowercased().hasPrefix("bearer ") else { return (true, nil) }
            return (true, s.registry.tokens[String(header.dropFirst("bearer ".count))])
        }
        guard on else { return nil }
        if let holder, holder.expires > now {
            if holder.username != nil || repository == nil { return nil }
            return registryError(403, "DENIED", "requested access to the resource is denied")
        }
        var challenge = "Bearer realm=\"\(baseURL.absoluteString)/jwt/auth\",service=\"\(Self.registryService)\""
        if let repository { challenge += ",scope=\"repository:\(repository):pull\"" }
        return registryError(401, "UNAUTHORIZED", "authentication required", headers: [("WWW-Authenticate", challenge)])
    }

    /// `GET /jwt/auth?service=container_registry&scope=…`: Basic with a sandbox user's name and token gets a pull
    /// token; no credentials an anonymous one; wrong ones 401, as GitLab's `JwtController`.
    private func handleRegistryToken(_ req: SandboxRequest) -> SandboxResponse {
        guard req.params.string("service") == Self.registryService else { return .message(404, "404 Not Found") }
        var username: String?
        if let header = req.header("authorization") {
            guard header.lowercased().hasPrefix("basic "),
                  let decoded = Data(base64Encoded: String(header.dropFirst(6))).flatMap({ String(data: $0, encoding: .utf8) }),
                  let colon = decoded.firstIndex(of: ":"),
                  let user = self.user(forToken: String(decoded[decoded.index(after: colon)...])),
                  user.username == String(decoded[..<colon]) else {
                return registryError(401, "UNAUTHORIZED", "HTTP Basic: Access denied. The provided password or token is incorrect.")
            }
            username = user.username
        }
        let token = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let now = self.now
        let lifetime = state.withLock { s -> Int? in
            s.registry.tokens[token] = (username, now.addingTimeInterval(TimeInterval(s.registry.tokenLifetime ?? 60)))
            return s.registry.tokenLifetime
        }
        var answer: [(String, JSON)] = [("token", .string(token))]
        if let lifetime { answer.append(("expires_in", .int(lifetime))) }
        return registryJSON(200, .object(answer))
    }

    private func registryJSON(_ status: Int, _ value: JSON, headers: [(String, String)] = []) -> SandboxResponse {
        .json(status, value, headers: [("Docker-Distribution-API-Version", "registry/2.0")] + headers)
    }

    /// The distribution error envelope: `{"errors":[{"code":…,"message":…,"detail":null}]}`.
    private func registryError(_ status: Int, _ code: String, _ message: String, headers: [(String, String)] = []) -> SandboxResponse {
        registryJSON(status, ["errors": [["code": .string(code), "message": .string(message), "detail": nil]]], headers: headers)
    }
}
