import Foundation

// MARK: - Webhook entities and payloads as JSON

// The project hook entity of the REST routes and the bodies of Push, Tag Push, Merge Request, Pipeline and Note
// Hooks, shaped like GitLab's (apis.md §10, §17). They read the state and the repositories they are handed, as
// it is when the event happens; `Sandbox+Webhooks.swift` decides when to build them and whom to send them to.
extension Sandbox {
    /// Forty zeros: the `before` of a created ref, the `after` of a deleted one.
    static let zeroSHA = String(repeating: "0", count: 40)

    /// `GET /projects/:id/hooks/:hook_id`; the token is write-only and never rendered.
    func hookJSON(_ h: HookRecord) -> JSON {
        func on(_ event: SandboxWebhookEvent) -> JSON { .bool(h.events.contains(event)) }
        return [
            "id": .int(h.id), "url": .string(h.url), "name": .string(h.name), "description": .string(h.description),
            "project_id": .int(h.projectID), "push_events": on(.push), "push_events_branch_filter": .string(h.pushEventsBranchFilter),
            "branch_filter_strategy": .string(h.branchFilterStrategy), "issues_events": false, "confidential_issues_events": false,
            "merge_requests_events": on(.mergeRequest), "tag_push_events": on(.tagPush), "note_events": on(.note),
            "confidential_note_events": false, "pipeline_events": on(.pipeline), "wiki_page_events": false, "deployment_events": false,
            "feature_flag_events": false, "job_events": false, "releases_events": false, "milestone_events": false, "emoji_events": false,
            "resource_access_token_events": false, "repository_update_events": false,
            "enable_ssl_verification": .bool(h.enableSSLVerification), "alert_status": "executable", "disabled_until": nil,
            "url_variables": [], "created_at": .date(h.createdAt), "custom_webhook_template": nil, "custom_headers": [],
        ]
    }

    /// The user an event is attributed to: `id`'s, else the administrator (CI pushes, pipelines).
    func hookUser(_ id: Int?) -> UserRecord? {
        state.withLock { s in id.flatMap { s.users[$0] } ?? s.user(named: "root") }
    }

    func hookUserJSON(_ u: UserRecord?) -> JSON {
        guard let u else { return nil }
        return ["id": .int(u.id), "name": .string(u.name), "username": .string(u.username), "avatar_url": nil,
                "email": .string("\(u.username)@sandbox.invalid")]
    }

    func hookProjectJSON(_ p: ProjectRecord) -> JSON {
        let web = webURL(p.path), ssh = sshURL(p.path)
        return [
            "id": .int(p.id), "name": .string(p.name), "description": "", "web_url": .string(web), "avatar_url": nil,
            "git_ssh_url": .string(ssh), "git_http_url": .string(repoURL(p.path)), "namespace": .string(p.namespace),
            "visibility_level": 0, "path_with_namespace": .string(p.path), "default_branch": .string(p.defaultBranch),
            "ci_config_path": nil, "homepage": .string(web), "url": .string(ssh), "ssh_url": .string(ssh), "http_url": .string(repoURL(p.path)),
        ]
    }

    func hookRepositoryJSON(_ p: ProjectRecord) -> JSON {
        ["name": .string(p.name), "url": .string(sshURL(p.path)), "description": "", "homepage": .string(webURL(p.path)),
         "git_http_url": .string(repoURL(p.path)), "git_ssh_url": .string(sshURL(p.path)), "visibility_level": 0]
    }

    /// A commit as hooks embed it (`last_commit`, `commit`, the entries of `commits`).
    func hookCommitJSON(_ c: GitRepository.Commit, _ p: ProjectRecord) -> [(String, JSON)] {
        [("id", .string(c.id)), ("message", .string(c.message)), ("title", .string(c.title)), ("timestamp", .string(c.authoredDate)),
         ("url", .string(webURL(p.path) + "/-/commit/" + c.id)),
         ("author", ["name": .string(c.authorName), "email": .string(c.authorEmail)])]
    }

    func hookLabelsJSON(_ labels: [String], _ p: ProjectRecord) -> JSON {
        .array(labels.map { ["title": .string($0), "color": "#6699cc", "project_id": .int(p.id), "type": "ProjectLabel", "description": nil] })
    }

    // MARK: - Push Hook

    /// A Push Hook (or, for `refs/tags/…`, Tag Push Hook) body for `ref` moving from `before` to `after`
    /// (nil: created, deleted). `commits` lists the newest 20 of the commits the push brought: `before..after`,
    /// or for a new ref those no other branch (tag) has; none for a deletion.
    func pushHookJSON(_ p: ProjectRecord, ref: String, before: String?, after: String?, user: UserRecord?) -> JSON {
        let tag = ref.hasPrefix("refs/tags/")
        let name = String(ref.drop { $0 != "/" }.dropFirst().drop { $0 != "/" }.dropFirst())
        var range: [String] = []
        if let after, !tag {
            range = before.map { ["\($0)..\(after)"] } ?? [after, "--not", "--exclude=\(name)", "--branches"]
        }
        let pushed = range.isEmpty ? nil : try? p.repository.pushCommits(range)
        let commits: [JSON] = (pushed?.commits ?? []).map { c in
            .object(hookCommitJSON(c.commit, p) + [("added", .strings(c.added)), ("modified", .strings(c.modified)), ("removed", .strings(c.removed))])
        }
        let kind = tag ? "tag_push" : "push"
        return [
            "object_kind": .string(kind), "event_name": .string(kind), "before": .string(before ?? Self.zeroSHA),
            "after": .string(after ?? Self.zeroSHA), "ref": .string(ref), "ref_protected": .bool(!tag && p.protected[name] != nil),
            "checkout_sha": .string(after.flatMap { p.repository.resolve($0) }), "message": nil,
            "user_id": .int(user?.id), "user_name": .string(user?.name), "user_username": .string(user?.username),
            "user_email": .string(user.map { "\($0.username)@sandbox.invalid" }), "user_avatar": nil,
            "project_id": .int(p.id), "project": hookProjectJSON(p), "commits": .array(commits),
            "total_commits_count": .int(pushed?.total ?? 0), "push_options": [:], "repository": hookRepositoryJSON(p),
        ]
    }

    // MARK: - Merge Request Hook

    /// A Merge Request Hook body for `mr` as it is now; `oldrev` (the source's previous head) only when new
    /// commits arrived, `changes` as `{field: {previous, current}}`.
    func mergeRequestHookJSON(_ p: ProjectRecord, _ mr: MergeRequestRecord, action: String, user: UserRecord?,
                              oldrev: String? = nil, changes: [(String, JSON)] = []) -> JSON {
        let sha = headSHA(p, mr)
        let detailed = detailedMergeStatus(p, mr)
        let last = sha.flatMap { try? p.repository.log([$0], limit: 1).first }
        let stateID = ["opened": 1, "closed": 2, "merged": 3, "locked": 4][mr.state] ?? 1
        let users = state.withLock { $0.users }
        var attributes: [(String, JSON)] = [
            ("id", .int(mr.id)), ("iid", .int(mr.iid)), ("title", .string(mr.title)), ("description", .string(mr.description)),
            ("state", .string(mr.state)), ("state_id", .int(stateID)), ("action", .string(action)),
            ("source_branch", .string(mr.sourceBranch)), ("target_branch", .string(mr.targetBranch)),
            ("source_project_id", .int(p.id)), ("target_project_id", .int(p.id)), ("author_id", .int(mr.authorID)),
            ("assignee_id", .int(mr.assigneeIDs.first)), ("assignee_ids", .array(mr.assigneeIDs.map(JSON.int))),
            ("reviewer_ids", .array(mr.reviewerIDs.map(JSON.int))), ("draft", .bool(mr.isDraft)), ("work_in_progress", .bool(mr.isDraft)),
            ("merge_status", .string(Self.mergeStatus(detailed: detailed))), ("detailed_merge_status", .string(detailed)),
            ("merge_commit_sha", .string(mr.mergeCommitSHA)), ("merge_user_id", .int(mr.mergedByID)),
            ("merge_when_pipeline_succeeds", .bool(mr.autoMerge)), ("merge_error", .string(mr.mergeError)),
            ("head_pipeline_id", .int(headPipeline(p, sha: sha)?.id)), ("blocking_discussions_resolved", true),
            ("first_contribution", false), ("created_at", .date(mr.createdAt)), ("updated_at", .date(mr.updatedAt)),
            ("prepared_at", .date(mr.createdAt)), ("url", .string(webURL(p.path) + "/-/merge_requests/\(mr.iid)")),
            ("source", hookProjectJSON(p)), ("target", hookProjectJSON(p)),
            ("last_commit", last.map { .object(hookCommitJSON($0, p)) } ?? nil), ("labels", hookLabelsJSON(mr.labels, p)),
        ]
        if let oldrev { attributes.append(("oldrev", .string(oldrev))) }
        return [
            "object_kind": "merge_request", "event_type": "merge_request", "user": hookUserJSON(user), "project": hookProjectJSON(p),
            "object_attributes": .object(attributes), "labels": hookLabelsJSON(mr.labels, p), "changes": .object(changes),
            "repository": hookRepositoryJSON(p),
            "assignees": .array(mr.assigneeIDs.map { hookUserJSON(users[$0]) }), "reviewers": .array(mr.reviewerIDs.map { hookUserJSON(users[$0]) }),
        ]
    }

    /// The short `merge_request` block of Pipeline and Note Hooks.
    func hookMergeRequestSummaryJSON(_ p: ProjectRecord, _ mr: MergeRequestRecord) -> JSON {
        let detailed = detailedMergeStatus(p, mr)
        return [
            "id": .int(mr.id), "iid": .int(mr.iid), "title": .string(mr.title), "source_branch": .string(mr.sourceBranch),
            "source_project_id": .int(p.id), "target_branch": .string(mr.targetBranch), "target_project_id": .int(p.id),
            "state": .string(mr.state), "merge_status": .string(Self.mergeStatus(detailed: detailed)),
            "detailed_merge_status": .string(detailed), "draft": .bool(mr.isDraft),
            "url": .string(webURL(p.path) + "/-/merge_requests/\(mr.iid)"),
        ]
    }

    // MARK: - Pipeline Hook

    /// A Pipeline Hook body. The sandbox's pipelines stand for MR pipelines when their SHA is the head of an open
    /// MR from their ref: then `merge_request` is that MR, else null.
    func pipelineHookJSON(_ p: ProjectRecord, _ pl: PipelineRecord, user: UserRecord?) -> JSON {
        let commit = try? p.repository.log([pl.sha], limit: 1).first
        let mr = p.mergeRequests.last { $0.state == "opened" && $0.sourceBranch == pl.ref && headSHA(p, $0) == pl.sha }
        let detailed = ["success": "passed", "failed": "failed", "canceled": "canceled", "skipped": "skipped", "manual": "manual"][pl.status] ?? pl.status
        let finishedAt: Date? = pl.isActive ? nil : pl.updatedAt
        return [
            "object_kind": "pipeline",
            "object_attributes": [
                "id": .int(pl.id), "iid": .int(pl.iid), "name": nil, "ref": .string(pl.ref), "tag": false, "sha": .string(pl.sha),
                "before_sha": .string(commit?.parents.first ?? Self.zeroSHA), "source": .string(pl.source), "status": .string(pl.status),
                "detailed_status": .string(detailed), "stages": ["test"], "created_at": .rubyTime(pl.createdAt),
                "finished_at": .rubyTime(finishedAt), "duration": .int(finishedAt.map { Int($0.timeIntervalSince(pl.createdAt)) }),
                "queued_duration": nil, "variables": [], "url": .string(webURL(p.path) + "/-/pipelines/\(pl.id)"),
            ],
            "merge_request": mr.map { hookMergeRequestSummaryJSON(p, $0) } ?? nil,
            "user": hookUserJSON(user), "project": hookProjectJSON(p),
            "commit": commit.map { .object(hookCommitJSON($0, p)) } ?? nil, "source_pipeline": nil, "builds": [],
        ]
    }

    // MARK: - Note Hook

    /// A Note Hook body for a user's comment on an MR.
    func noteHookJSON(_ p: ProjectRecord, _ mr: MergeRequestRecord, _ n: NoteRecord, user: UserRecord?) -> JSON {
        [
            "object_kind": "note", "event_type": "note", "user": hookUserJSON(user), "project_id": .int(p.id), "project": hookProjectJSON(p),
            "object_attributes": [
                "id": .int(n.id), "note": .string(n.body), "noteable_type": "MergeRequest", "author_id": .int(n.authorID),
                "created_at": .date(n.createdAt), "updated_at": .date(n.updatedAt), "project_id": .int(p.id), "attachment": nil,
                "line_code": nil, "commit_id": "", "noteable_id": .int(mr.id), "system": .bool(n.system), "st_diff": nil,
                "url": .string(webURL(p.path) + "/-/merge_requests/\(mr.iid)#note_\(n.id)"), "action": "create",
            ],
            "repository": hookRepositoryJSON(p), "merge_request": hookMergeRequestSummaryJSON(p, mr),
        ]
    }
}
