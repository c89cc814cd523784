import Foundation
import HTTP

extension GitLabClient {
    func hookPath(_ project: ProjectRef, _ id: Int? = nil) -> String {
        "/projects/\(project.encoded)/hooks" + (id.map { "/\($0)" } ?? "")
    }

    /// The project's webhooks (`GET /projects/:id/hooks`, all pages). Needs Maintainer.
    /// - Throws: `GitLabError` (`.forbidden` below Maintainer, `.notFound` for a missing project).
    public func hooks(_ project: ProjectRef) async throws -> [ProjectHook] {
        try await fetchAll(ProjectHook.self, Endpoint(
            method: .get, path: hookPath(project), operation: "list webhooks of \(name(project))"))
    }

    /// Adds a webhook (`POST /projects/:id/hooks`). Never repeated automatically (it would add two).
    /// - Throws: `GitLabError`: `.unprocessable` for a URL GitLab refuses (e.g. a local address it blocks),
    ///   `.forbidden` below Maintainer. The token never appears in an error.
    public func createHook(_ project: ProjectRef, _ settings: ProjectHookSettings) async throws -> ProjectHook {
        try await redactingToken(settings.token) {
            try await fetch(ProjectHook.self, Endpoint(
                method: .post, path: hookPath(project), body: settings.body, retryable: false,
                operation: "add a webhook to \(name(project))"))
        }
    }

    /// Replaces a webhook's settings (`PUT /projects/:id/hooks/:hook_id`); idempotent. Changing the URL
    /// without a token makes GitLab drop the token.
    /// - Throws: `GitLabError` (`.notFound` when the hook is gone). The token never appears in an error.
    public func updateHook(_ project: ProjectRef, id: Int, _ settings: ProjectHookSettings) async throws -> ProjectHook {
        try await redactingToken(settings.token) {
            try await fetch(ProjectHook.self, Endpoint(
                method: .put, path: hookPath(project, id), body: settings.body, operation: "update webhook \(id) of \(name(project))"))
        }
    }

    /// Deletes a webhook (`DELETE /projects/:id/hooks/:hook_id`).
    /// - Returns: `true` if it was deleted, `false` if it did not exist (the wanted state either way).
    /// - Throws: `GitLabError` (`.notFound` for a missing project, `.forbidden` below Maintainer).
    @discardableResult
    public func deleteHook(_ project: ProjectRef, id: Int) async throws -> Bool {
        do {
            _ = try await execute(Endpoint(method: .delete, path: hookPath(project, id), operation: "delete webhook \(id) of \(name(project))"))
            return true
        } catch let error as GitLabError where error.kind == .notFound && !Self.isProjectNotFound(error) {
            return false
        }
    }

    /// Runs `body`, removing `token` from the message of any `GitLabError` it throws (GitLab does not echo
    /// it, but a proxy in front of it might).
    private func redactingToken<T>(_ token: HookToken?, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch var error as GitLabError {
            if let token { error.message = Redaction.redact(text: error.message, secrets: [token.value]) }
            throw error
        }
    }
}
