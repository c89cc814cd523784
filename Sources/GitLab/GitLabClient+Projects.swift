import Foundation
import HTTP

extension GitLabClient {
    /// The token's user (`GET /user`): proves the token works and says who the bot is.
    /// - Throws: `GitLabError` (`.unauthorized` for a bad, expired or revoked token).
    public func currentUser() async throws -> GitLabUser {
        try await fetch(GitLabUser.self, Endpoint(method: .get, path: "/user", operation: "read the token's user"))
    }

    /// The user with this exact username (`GET /users?username=`), or `nil` if there is none.
    /// Results are cached for the life of the client (and its copies).
    /// - Throws: `GitLabError`.
    public func user(username: String) async throws -> GitLabUser? {
        let name = username.hasPrefix("@") ? String(username.dropFirst()) : username
        if let cached = users[name] { return cached }
        let found = try await fetch([GitLabUser].self, Endpoint(
            method: .get, path: "/users", query: [("username", name)], operation: "look up user @\(name)"))
        let user = found.first { $0.username.caseInsensitiveCompare(name) == .orderedSame }
        if let user { users[name] = user }
        return user
    }

    /// The project (`GET /projects/:id`).
    /// - Throws: `GitLabError` `.notFound` if it does not exist or the token's user cannot see it.
    public func project(_ project: ProjectRef) async throws -> GitLabProject {
        try await fetch(GitLabProject.self, Endpoint(
            method: .get, path: "/projects/\(project.encoded)", operation: "read project \(name(project))"))
    }

    /// The branch (`GET /projects/:id/repository/branches/:branch`), or `nil` if it does not exist.
    /// - Throws: `GitLabError` (`.notFound` when the *project* is missing or invisible).
    public func branch(_ project: ProjectRef, _ name: String) async throws -> GitLabBranch? {
        let endpoint = Endpoint(method: .get, path: "/projects/\(project.encoded)/repository/branches/\(URLEncoding.pathSegment(name))",
                                operation: "read branch '\(name)' of \(self.name(project))")
        do {
            return try await fetch(GitLabBranch.self, endpoint)
        } catch let error as GitLabError where error.kind == .notFound && !Self.isProjectNotFound(error) {
            return nil
        }
    }

    /// Deletes the branch (`DELETE /projects/:id/repository/branches/:branch`).
    /// - Returns: `true` if it was deleted, `false` if it did not exist (the wanted state either way).
    /// - Throws: `GitLabError`: `.badRequest` for a protected or default branch (GitLab's message says which),
    ///   `.forbidden`/`.methodNotAllowed` without push access, `.notFound` for a missing project.
    @discardableResult
    public func deleteBranch(_ project: ProjectRef, _ name: String) async throws -> Bool {
        let endpoint = Endpoint(method: .delete, path: "/projects/\(project.encoded)/repository/branches/\(URLEncoding.pathSegment(name))",
                                operation: "delete branch '\(name)' of \(self.name(project))")
        do {
            _ = try await execute(endpoint)
            return true
        } catch let error as GitLabError where error.kind == .notFound && !Self.isProjectNotFound(error) {
            return false
        }
    }

    static func isProjectNotFound(_ error: GitLabError) -> Bool {
        error.message.range(of: "Project Not Found", options: .caseInsensitive) != nil
    }

    /// Resolves ids and usernames to ids.
    /// - Throws: `GitLabError` `.notFound` naming the first unknown username.
    func userIDs(_ refs: [UserRef], for operation: String) async throws -> [Int] {
        var ids: [Int] = []
        for ref in refs {
            switch ref {
            case .id(let id):
                ids.append(id)
            case .username(let username):
                guard let user = try await user(username: username) else {
                    throw GitLabError(kind: .notFound, status: nil,
                                      message: "no GitLab user is named '\(username)' (needed to \(operation)); fix the username in the policy",
                                      method: "GET", path: "/users", operation: operation)
                }
                ids.append(user.id)
            }
        }
        return ids
    }
}
