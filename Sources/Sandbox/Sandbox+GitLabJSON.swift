import Foundation

// MARK: - GitLab entities as JSON

// The bodies the routes in `Sandbox+GitLabRoutes.swift` (and the merge request routes) answer with: one
// function per entity, shaped like GitLab REST v4's (apis.md §1–§9). Read the state they are handed; no I/O
// beyond reading the sandbox's own git repositories for commit details.
extension Sandbox {
    func userJSON(_ u: UserRecord, full: Bool = false) -> JSON {
        var fields: [(String, JSON)] = [
            ("id", .int(u.id)), ("username", .string(u.username)), ("name", .string(u.name)), ("state", "active"),
            ("locked", false), ("avatar_url", nil), ("web_url", .string(baseURL.absoluteString + "/" + u.username)),
        ]
        if full {
            fields += [("created_at", .date(u.createdAt)), ("is_admin", .bool(u.role == .admin)), ("bot", false),
                       ("email", .string("\(u.username)@sandbox.invalid")), ("public_email", nil)]
        }
        return .object(fields)
    }

    func userJSON(id: Int?) -> JSON {
        guard let id, let u = state.withLock({ $0.users[id] }) else { return nil }
        return userJSON(u)
    }

    func projectJSON(_ p: ProjectRecord, _ viewer: UserRecord) -> JSON {
        let web = webURL(p.path)
        let namespace = p.namespace
        return [
            "id": .int(p.id), "description": "", "name": .string(p.name), "name_with_namespace": .string(p.path.replacingOccurrences(of: "/", with: " / ")),
            "path": .string(p.name), "path_with_namespace": .string(p.path), "created_at": .date(p.createdAt),
            "default_branch": .string(p.defaultBranch), "tag_list": [], "topics": [],
            "ssh_url_to_repo": .string(sshURL(p.path)), "http_url_to_repo": .string(repoURL(p.path)),
            "web_url": .string(web), "readme_url": nil, "avatar_url": nil, "forks_count": 0, "star_count": 0,
            "last_activity_at": .date(Date()),
            "namespace": ["id": .int(p.id + 1000), "name": .string(namespace), "path": .string(namespace), "kind": "group",
                          "full_path": .string(namespace), "parent_id": nil, "avatar_url": nil,
                          "web_url": .string(baseURL.absoluteString + "/groups/" + namespace)],
            "empty_repo": false, "archived": false, "visibility": "private", "mirror": false,
            "merge_method": .string(p.mergeMethod.rawValue), "squash_option": "default_off",
            "only_allow_merge_if_pipeline_succeeds": .bool(p.pipelineMustSucceed),
            "allow_merge_on_skipped_pipeline": false,
            "only_allow_merge_if_all_discussions_are_resolved": false, "remove_source_branch_after_merge": true,
            "merge_requests_enabled": true, "merge_requests_access_level": "enabled", "repository_access_level": "enabled",
            "issues_enabled": true, "jobs_enabled": true, "approvals_before_merge": .int(p.approvalsRequired),
            "merge_trains_enabled": false,
            "permissions": ["project_access": ["access_level": .int(viewer.role.accessLevel), "notification_level": 3], "group_access": nil],
        ]
    }

    func commitJSON(_ c: GitRepository.Commit, _ p: ProjectRecord) -> JSON {
        [
            "id": .string(c.id), "short_id": .string(String(c.id.prefix(8))), "created_at": .string(c.committedDate),
            "parent_ids": .strings(c.parents), "title": .string(c.title), "message": .string(c.message),
            "author_name": .string(c.authorName), "author_email": .string(c.authorEmail), "authored_date": .string(c.authoredDate),
            "committer_name": .string(c.committerName), "committer_email": .string(c.committerEmail), "committed_date": .string(c.committedDate),
            "trailers": [:], "extended_trailers": [:], "web_url": .string(webURL(p.path) + "/-/commit/" + c.id),
        ]
    }

    func pipelineJSON(_ pl: PipelineRecord, _ p: ProjectRecord) -> JSON {
        [
            "id": .int(pl.id), "iid": .int(pl.iid), "project_id": .int(p.id), "sha": .string(pl.sha), "ref": .string(pl.ref),
            "status": .string(pl.status), "source": .string(pl.source), "created_at": .date(pl.createdAt), "updated_at": .date(pl.updatedAt),
            "web_url": .string(webURL(p.path) + "/-/pipelines/\(pl.id)"),
        ]
    }

    func noteJSON(_ n: NoteRecord, _ mr: MergeRequestRecord, _ p: ProjectRecord) -> JSON {
        [
            "id": .int(n.id), "type": nil, "body": .string(n.body), "attachment": nil, "author": userJSON(id: n.authorID),
            "created_at": .date(n.createdAt), "updated_at": .date(n.updatedAt), "system": .bool(n.system),
            "noteable_id": .int(mr.id), "noteable_type": "MergeRequest", "noteable_iid": .int(mr.iid), "project_id": .int(p.id),
            "resolvable": false, "confidential": false, "internal": false, "imported": false, "imported_from": "none",
        ]
    }

    func mergeRequestJSON(_ p: ProjectRecord, _ mr: MergeRequestRecord, viewer: UserRecord, single: Bool) -> JSON {
        let sha = headSHA(p, mr)
        let detailed = detailedMergeStatus(p, mr)
        let mergeStatus = Self.mergeStatus(detailed: detailed)
        let web = webURL(p.path) + "/-/merge_requests/\(mr.iid)"
        let assignees = mr.assigneeIDs.map { userJSON(id: $0) }
        var fields: [(String, JSON)] = [
            ("id", .int(mr.id)), ("iid", .int(mr.iid)), ("project_id", .int(p.id)), ("title", .string(mr.title)),
            ("description", .string(mr.description)), ("state", .string(mr.state)),
            ("created_at", .date(mr.createdAt)), ("updated_at", .date(mr.updatedAt)),
            ("merged_by", userJSON(id: mr.mergedByID)), ("merge_user", userJSON(id: mr.mergedByID)), ("merged_at", .date(mr.mergedAt)),
            ("closed_by", userJSON(id: mr.closedByID)), ("closed_at", .date(mr.closedAt)),
            ("target_branch", .string(mr.targetBranch)), ("source_branch", .string(mr.sourceBranch)),
            ("user_notes_count", .int(mr.notes.filter { !$0.system }.count)), ("upvotes", 0), ("downvotes", 0),
            ("author", userJSON(id: mr.authorID)), ("assignees", .array(assignees)), ("assignee", assignees.first ?? nil),
            ("reviewers", .array(mr.reviewerIDs.map { userJSON(id: $0) })),
            ("source_project_id", .int(p.id)), ("target_project_id", .int(p.id)), ("labels", .strings(mr.labels)),
            ("draft", .bool(mr.isDraft)), ("work_in_progress", .bool(mr.isDraft)), ("milestone", nil),
            ("merge_when_pipeline_succeeds", .bool(mr.autoMerge)), ("merge_status", .string(mergeStatus)),
            ("detailed_merge_status", .string(detailed)), ("merge_after", nil), ("sha", .string(sha)),
            ("merge_commit_sha", .string(mr.mergeCommitSHA)), ("squash_commit_sha", .string(mr.squashCommitSHA)),
            ("discussion_locked", nil), ("should_remove_source_branch", mr.shouldRemoveSourceBranch.map(JSON.bool) ?? nil),
            ("force_remove_source_branch", mr.forceRemoveSourceBranch.map(JSON.bool) ?? nil), ("prepared_at", .date(mr.createdAt)),
            ("allow_collaboration", false), ("allow_maintainer_to_push", false),
            ("reference", .string("!\(mr.iid)")),
            ("references", ["short": .string("!\(mr.iid)"), "relative": .string("!\(mr.iid)"), "full": .string("\(p.path)!\(mr.iid)")]),
            ("web_url", .string(web)),
            ("time_stats", ["time_estimate": 0, "total_time_spent": 0, "human_time_estimate": nil, "human_total_time_spent": nil]),
            ("squash", .bool(mr.squash)), ("squash_on_merge", .bool(mr.squash)),
            ("task_completion_status", ["count": 0, "completed_count": 0]),
            ("has_conflicts", .bool(detailed == "conflict")), ("blocking_discussions_resolved", true),
            ("approvals_before_merge", mr.approvalsRequired.map(JSON.int) ?? nil),
        ]
        if single {
            let pipeline = headPipeline(p, sha: sha).map { pipelineJSON($0, p) } ?? nil
            var base: String? = nil
            if let sha, let target = p.repository.branchSHA(mr.targetBranch) {
                base = (try? p.repository.git(["merge-base", target, sha]))?.output
            }
            fields += [
                ("subscribed", false), ("changes_count", "1"), ("latest_build_started_at", nil), ("latest_build_finished_at", nil),
                ("first_deployed_to_production_at", nil), ("pipeline", pipeline), ("head_pipeline", pipeline),
                ("diff_refs", ["base_sha": .string(base), "head_sha": .string(sha), "start_sha": .string(p.repository.branchSHA(mr.targetBranch))]),
                ("merge_error", .string(mr.mergeError)), ("first_contribution", false),
                ("user", ["can_merge": .bool(viewer.role.canWrite)]),
            ]
        }
        return .object(fields)
    }

    /// The deprecated `merge_status` that goes with a `detailed_merge_status`.
    static func mergeStatus(detailed: String) -> String {
        detailed == "conflict" ? "cannot_be_merged" : (detailed == "checking" ? "checking" : "can_be_merged")
    }

    func branchJSON(_ p: ProjectRecord, _ name: String, _ sha: String) -> JSON {
        let commit = (try? p.repository.log([sha], limit: 1))?.first
        let protected = p.protected[name]
        return [
            "name": .string(name), "merged": false, "protected": .bool(protected != nil), "default": .bool(name == p.defaultBranch),
            "developers_can_push": .bool((protected ?? 30) > 0 && (protected ?? 30) <= 30), "developers_can_merge": true, "can_push": true,
            "web_url": .string(webURL(p.path) + "/-/tree/" + name),
            "commit": commit.map { commitJSON($0, p) } ?? ["id": .string(sha)],
        ]
    }
}
