import Foundation
import HTTP

extension GitLabClient {
    func mrPath(_ project: ProjectRef, _ iid: Int, _ suffix: String = "") -> String {
        "/projects/\(project.encoded)/merge_requests/\(iid)\(suffix)"
    }

    /// Every MR matching `query` (`GET /projects/:id/merge_requests`, all pages).
    /// - Throws: `GitLabError`.
    public func mergeRequests(_ project: ProjectRef, _ query: MergeRequestQuery) async throws -> [MergeRequest] {
        try await fetchAll(MergeRequest.self, Endpoint(
            method: .get, path: "/projects/\(project.encoded)/merge_requests", query: query.queryItems,
            operation: "list merge requests of \(name(project))"))
    }

    /// MRs across every project the token can see (`GET /merge_requests`), all pages: with
    /// `scope: .createdByMe` the bot's own MRs everywhere in one listing, instead of one per project.
    public func mergeRequests(_ query: MergeRequestQuery) async throws -> [MergeRequest] {
        try await fetchAll(MergeRequest.self, Endpoint(
            method: .get, path: "/merge_requests", query: query.queryItems, operation: "list merge requests across projects"))
    }

    /// One MR by its project-scoped iid (`GET /projects/:id/merge_requests/:iid`).
    /// - Throws: `GitLabError` `.notFound` if there is no such MR (a global `id` is not an iid).
    public func mergeRequest(_ project: ProjectRef, iid: Int) async throws -> MergeRequest {
        try await fetch(MergeRequest.self, Endpoint(
            method: .get, path: mrPath(project, iid), operation: "read merge request !\(iid) in \(name(project))"))
    }

    /// Opens an MR (`POST /projects/:id/merge_requests`). Usernames are resolved first.
    ///
    /// Not repeated by the transport (a POST); "source branch does not exist" right after a push
    /// and 409 "Resource lock" are retried by the client.
    /// - Throws: `GitLabError`; on 409 `isDuplicateMergeRequest` is true and
    ///   `existingMergeRequestIID` names the open MR to adopt.
    public func createMergeRequest(_ project: ProjectRef, _ create: CreateMergeRequest) async throws -> MergeRequest {
        let operation = "open a merge request \(create.sourceBranch) → \(create.targetBranch) in \(name(project))"
        var body: [String: JSONValue] = [
            "source_branch": .string(create.sourceBranch),
            "target_branch": .string(create.targetBranch),
            "title": .string(create.title),
            "description": .string(create.description),
        ]
        if !create.labels.isEmpty { body["labels"] = .string(create.labels.joined(separator: ",")) }
        if !create.assignees.isEmpty { body["assignee_ids"] = .array(try await userIDs(create.assignees, for: operation).map(JSONValue.int)) }
        if !create.reviewers.isEmpty { body["reviewer_ids"] = .array(try await userIDs(create.reviewers, for: operation).map(JSONValue.int)) }
        if let remove = create.removeSourceBranch { body["remove_source_branch"] = .bool(remove) }
        if let squash = create.squash { body["squash"] = .bool(squash) }
        return try await fetch(MergeRequest.self, Endpoint(
            method: .post, path: "/projects/\(project.encoded)/merge_requests", body: body, retryable: false,
            operation: operation, transient: [.resourceLock, .missingSourceBranch]))
    }

    /// Changes an MR (`PUT /projects/:id/merge_requests/:iid`); an empty update just reads it.
    /// - Throws: `GitLabError` (409 duplicate when reopening next to another open MR).
    public func updateMergeRequest(_ project: ProjectRef, iid: Int, _ update: UpdateMergeRequest) async throws -> MergeRequest {
        if update.isEmpty { return try await mergeRequest(project, iid: iid) }
        let operation = "update merge request !\(iid) in \(name(project))"
        var body: [String: JSONValue] = [:]
        if let title = update.title { body["title"] = .string(title) }
        if let description = update.description { body["description"] = .string(description) }
        if let labels = update.labels { body["labels"] = .string(labels.joined(separator: ",")) }
        if let assignees = update.assignees { body["assignee_ids"] = .array(try await userIDs(assignees, for: operation).map(JSONValue.int)) }
        if let reviewers = update.reviewers { body["reviewer_ids"] = .array(try await userIDs(reviewers, for: operation).map(JSONValue.int)) }
        if let target = update.targetBranch { body["target_branch"] = .string(target) }
        if let event = update.stateEvent { body["state_event"] = .string(event.rawValue) }
        return try await fetch(MergeRequest.self, Endpoint(method: .put, path: mrPath(project, iid), body: body, operation: operation))
    }

    /// Merges an MR, or schedules auto-merge (`PUT /projects/:id/merge_requests/:iid/merge`).
    ///
    /// With `options.sha` set the request is marked retryable for the transport: GitLab merges
    /// only that head, so a repeat can never merge something else; and if a repeat (or a lost
    /// answer) ends in 405/422 while the MR is in fact merged at that SHA, the merged MR is
    /// returned. With `autoMerge`, a 405 is retried per `retryPolicy` (GitLab answers 405 until
    /// it has checked a fresh MR's mergeability).
    /// - Throws: `GitLabError`: `.methodNotAllowed` not mergeable now, `.conflict` with
    ///   `isSHAMismatch` when the branch moved, `.unauthorized` when the user may not merge,
    ///   `.unprocessable` when the merge failed.
    public func merge(_ project: ProjectRef, iid: Int, _ options: MergeOptions) async throws -> MergeRequest {
        var body: [String: JSONValue] = [:]
        if let sha = options.sha { body["sha"] = .string(sha) }
        if options.autoMerge {
            body["auto_merge"] = .bool(true)
            body["merge_when_pipeline_succeeds"] = .bool(true)
        }
        if let remove = options.shouldRemoveSourceBranch { body["should_remove_source_branch"] = .bool(remove) }
        if let squash = options.squash { body["squash"] = .bool(squash) }
        if let message = options.mergeCommitMessage { body["merge_commit_message"] = .string(message) }
        if let message = options.squashCommitMessage { body["squash_commit_message"] = .string(message) }
        let endpoint = Endpoint(
            method: .put, path: mrPath(project, iid, "/merge"), body: body, retryable: options.sha != nil,
            operation: (options.autoMerge ? "auto-merge" : "merge") + " !\(iid) in \(name(project))",
            transient: options.autoMerge ? [.resourceLock, .notYetMergeable] : [.resourceLock])
        do {
            return try await fetch(MergeRequest.self, endpoint)
        } catch let error as GitLabError where options.sha != nil && (error.kind == .methodNotAllowed || error.kind == .unprocessable) {
            if let current = try? await mergeRequest(project, iid: iid), current.state == .merged, current.sha == options.sha {
                return current
            }
            throw error
        }
    }

    /// Approval state (`GET /projects/:id/merge_requests/:iid/approvals`).
    /// - Throws: `GitLabError`.
    public func approvals(_ project: ProjectRef, iid: Int) async throws -> MergeRequestApprovals {
        try await fetch(MergeRequestApprovals.self, Endpoint(
            method: .get, path: mrPath(project, iid, "/approvals"), operation: "read approvals of !\(iid) in \(name(project))"))
    }

    /// Approves as the token's user (`POST /projects/:id/merge_requests/:iid/approve`), pinned to `sha` if given.
    /// - Throws: `GitLabError`: `.unauthorized` if the user may not approve (or already did),
    ///   `.conflict` with `isSHAMismatch` if the branch moved.
    public func approve(_ project: ProjectRef, iid: Int, sha: String?) async throws {
        var body: [String: JSONValue] = [:]
        if let sha { body["sha"] = .string(sha) }
        _ = try await execute(Endpoint(
            method: .post, path: mrPath(project, iid, "/approve"), body: body, retryable: false,
            operation: "approve !\(iid) in \(name(project))"))
    }

    /// Every note on an MR, oldest first (`GET …/notes?sort=asc&order_by=created_at`, all pages).
    /// - Throws: `GitLabError`.
    public func notes(_ project: ProjectRef, iid: Int) async throws -> [Note] {
        try await fetchAll(Note.self, Endpoint(
            method: .get, path: mrPath(project, iid, "/notes"), query: [("sort", "asc"), ("order_by", "created_at")],
            operation: "read notes of !\(iid) in \(name(project))"))
    }

    /// Adds a note (`POST …/notes`). Never repeated automatically (it would post twice).
    /// - Throws: `GitLabError`.
    public func createNote(_ project: ProjectRef, iid: Int, body: String) async throws -> Note {
        try await fetch(Note.self, Endpoint(
            method: .post, path: mrPath(project, iid, "/notes"), body: ["body": .string(body)], retryable: false,
            operation: "comment on !\(iid) in \(name(project))"))
    }

    /// Replaces a note's body (`PUT …/notes/:note_id`); idempotent.
    /// - Throws: `GitLabError` (`.forbidden` for someone else's note).
    public func updateNote(_ project: ProjectRef, iid: Int, noteID: Int, body: String) async throws -> Note {
        try await fetch(Note.self, Endpoint(
            method: .put, path: mrPath(project, iid, "/notes/\(noteID)"), body: ["body": .string(body)],
            operation: "edit note \(noteID) on !\(iid) in \(name(project))"))
    }

    /// The MR's commits (`GET …/commits`, all pages).
    /// - Throws: `GitLabError`.
    public func commits(_ project: ProjectRef, iid: Int) async throws -> [GitLabCommit] {
        try await fetchAll(GitLabCommit.self, Endpoint(
            method: .get, path: mrPath(project, iid, "/commits"), operation: "read commits of !\(iid) in \(name(project))"))
    }

    /// The MR's pipelines, newest first as GitLab sends them (`GET …/pipelines`, all pages).
    /// - Throws: `GitLabError`.
    public func pipelines(_ project: ProjectRef, iid: Int) async throws -> [GitLabPipeline] {
        try await fetchAll(GitLabPipeline.self, Endpoint(
            method: .get, path: mrPath(project, iid, "/pipelines"), operation: "read pipelines of !\(iid) in \(name(project))"))
    }
}
