import Foundation

// Argo CD and Prometheus stand-ins: just enough of each API for health gates.
extension Sandbox {
    /// `GET /api/v1/applications/{name}` (Argo CD, apis.md §13). Bearer token optional.
    func handleArgo(_ req: SandboxRequest) -> SandboxResponse {
        guard req.method == "GET" || req.method == "HEAD" else { return argoError(501, 12, "Method Not Allowed") }
        let rest = req.path.dropFirst("/api/v1/applications".count)
        let name = (rest.hasPrefix("/") ? String(rest.dropFirst()) : String(rest)).removingPercentEncoding ?? ""
        if name.isEmpty {
            let apps = state.withLock { Array($0.argo.values) }.sorted { $0.name < $1.name }
            return .json(200, ["metadata": [:], "items": .array(apps.map(argoJSON))])
        }
        guard let app = state.withLock({ $0.argo[name] }) else {
            return argoError(404, 5, "applications.argoproj.io \"\(name)\" not found")
        }
        return .json(200, argoJSON(app))
    }

    func argoError(_ status: Int, _ code: Int, _ message: String) -> SandboxResponse {
        .json(status, ["error": .string(message), "code": .int(code), "message": .string(message), "details": []])
    }

    func argoJSON(_ app: SandboxArgoApplication) -> JSON {
        var status: [(String, JSON)] = [
            ("health", app.healthMessage.map { ["status": .string(app.health), "message": .string($0)] } ?? ["status": .string(app.health)]),
            ("sync", .object([("status", .string(app.sync)), ("revision", .string(app.revision))]
                + (app.revision.map { [("revisions", JSON.strings([$0]))] } ?? []))),
            ("summary", ["images": .strings(app.images)]),
            ("reconciledAt", .date(Date())),
            ("sourceType", "Kustomize"),
        ]
        if let phase = app.operationPhase {
            var op: [(String, JSON)] = [("phase", .string(phase)), ("message", .string(phase == "Succeeded" ? "successfully synced (all tasks run)" : ""))]
            let finished = app.operationFinishedAt
            op.append(("startedAt", .date(finished.map { $0.addingTimeInterval(-5) } ?? Date())))
            if let finished { op.append(("finishedAt", .date(finished))) }
            if let revision = app.revision { op.append(("syncResult", ["revision": .string(revision)])) }
            status.append(("operationState", .object(op)))
        }
        var spec: [(String, JSON)] = [("project", "default"),
                                      ("destination", ["server": "https://kubernetes.default.svc", "namespace": .string(app.name)])]
        if let project = app.sourceProject {
            spec.append(("source", ["repoURL": .string(repoURL(project)), "path": .string(app.sourcePath ?? "."), "targetRevision": "HEAD"]))
        }
        return [
            "metadata": ["name": .string(app.name), "namespace": "argocd"],
            "spec": .object(spec),
            "status": .object(status),
        ]
    }

    /// `GET/POST /api/v1/query` (Prometheus, apis.md §14): an instant vector of 0 or 1 samples.
    func handlePrometheus(_ req: SandboxRequest) -> SandboxResponse {
        guard let query = req.params.string("query"), !query.isEmpty else {
            return .json(400, ["status": "error", "errorType": "bad_data", "error": "invalid parameter \"query\": 1:1: parse error: no expression found in input"])
        }
        let now = Date().timeIntervalSince1970
        let value = state.withLock { $0.prometheus[query] ?? nil }
        var result: [JSON] = []
        if let value {
            let text: String
            if value.isNaN { text = "NaN" } else if value.isInfinite { text = value > 0 ? "+Inf" : "-Inf" }
            else if value == value.rounded(), abs(value) < 1e15 { text = String(Int(value)) } else { text = String(value) }
            result = [["metric": [:], "value": [.double((now * 1000).rounded() / 1000), .string(text)]]]
        }
        return .json(200, ["status": "success", "data": ["resultType": "vector", "result": .array(result)]])
    }
}
