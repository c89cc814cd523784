import Foundation

// `/projects/:id/merge_requests...` (apis.md §6–§8).
extension Sandbox {
    func handleMergeRequests(_ call: APICall, _ p: ProjectRecord, _ rest: [String]) -> SandboxResponse {
        let m = call.req.method == "HEAD" ? "GET" : call.req.method
        if rest.isEmpty {
            switch m {
            case "GET": return listMergeRequests(call, p)
            case "POST": return createMergeRequest(call, p)
            default: return .routeNotFound
            }
        }
        guard let iid = Int(rest[0]) else { return .routeNotFound }
        guard let mr = p.mergeRequests.first(where: { $0.iid == iid }) else { return .message(404, "404 Merge Request Not Found") }
        let sub = Array(rest.dropFirst())
        switch (m, sub.first, sub.count) {
        case ("GET", nil, 0): return .json(200, mergeRequestJSON(p, mr, viewer: call.user, single: true))
        case ("PUT", nil, 0): return updateMergeRequest(call, p, mr)
        case ("DELETE", nil, 0):
            guard call.user.role == .admin else { return .forbidden }
            state.withLock { s in s.projects[p.id]?.mergeRequests.removeAll { $0.iid == iid } }
            return SandboxResponse(status: 204)
        case ("PUT", "merge", 1): return mergeMergeRequest(call, p, mr)
        case ("POST", "cancel_merge_when_pipeline_succeeds", 1):
            guard mr.state == "opened" else { return .message(406, "Can't cancel the automatic merge") }
            let updated = updateMergeRequest(projectID: p.id, iid: iid) { mr, _ in mr.autoMerge = false }
            return .json(201, mergeRequestJSON(p, updated ?? mr, viewer: call.user, single: true))
        case ("GET", "approvals", 1): return .json(200, approvalsJSON(p.id, iid, viewer: call.user))
        case ("POST", "approve", 1):
            if let sha = call.params.string("sha"), let head = headSHA(p, mr), sha != head {
                return .message(409, "SHA does not match HEAD of source branch: \(head)")
            }
            if recordApproval(projectID: p.id, iid: iid, userID: call.user.id) != nil { return .unauthorized }
            return .json(201, approvalsJSON(p.id, iid, viewer: call.user))
        case ("POST", "unapprove", 1):
            guard recordUnapproval(projectID: p.id, iid: iid, userID: call.user.id) else { return .message(404, "404 Not Found") }
            return .json(201, approvalsJSON(p.id, iid, viewer: call.user))
        case (_, "notes", _): return handleNotes(call, p, mr, Array(sub.dropFirst()))
        case ("GET", "commits", 1):
            // GitLab answers 500 when it cannot read the repository, never a wrong (empty) list.
            guard let commits = try? mergeRequestCommits(p, mr) else { return .message(500, "500 Internal Server Error") }
            return paginate(call, commits.map { commitJSON($0, p) })
        case ("GET", "pipelines", 1):
            let sha = headSHA(p, mr)
            return paginate(call, p.pipelines.filter { $0.sha == sha }.reversed().map { pipelineJSON($0, p) })
        case ("GET", "participants", 1):
            let ids = [mr.authorID] + mr.notes.map(\.authorID)
            var seen = Set<Int>()
            return .json(200, .array(ids.filter { seen.insert($0).inserted }.map { userJSON(id: $0) }))
        default:
            return .routeNotFound
        }
    }

    func mergeRequestCommits(_ p: ProjectRecord, _ mr: MergeRequestRecord) throws -> [GitRepository.Commit] {
        guard let head = headSHA(p, mr) else { return [] }
        if mr.state == "opened", let target = p.repository.branchSHA(mr.targetBranch) {
            return try p.repository.log(["\(target)..\(head)"])
        }
        if let merge = mr.mergeCommitSHA, merge != head, let c = try p.repository.log([merge], limit: 1).first, let first = c.parents.first {
            return try p.repository.log(["\(first)..\(head)"])
        }
        return try p.repository.log([head], limit: 1)
    }

    // MARK: - List

    func listMergeRequests(_ call: APICall, _ p: ProjectRecord) -> SandboxResponse {
        switch filterMergeRequests(call, p.mergeRequests.map { (p, $0) }, defaultScope: nil) {
        case .success(let items): return paginate(call, items.map { mergeRequestJSON($0.0, $0.1, viewer: call.user, single: false) })
        case .failure(let refusal): return refusal.response
        }
    }

    /// `GET /merge_requests`: every project's MRs in one list (GitLab's default scope here is `created_by_me`).
    func listInstanceMergeRequests(_ call: APICall) -> SandboxResponse {
        let projects = state.withLock { $0.projects.values.sorted { $0.id < $1.id } }
        let all = projects.flatMap { p in p.mergeRequests.map { (p, $0) } }
        switch filterMergeRequests(call, all, defaultScope: "created_by_me") {
        case .success(let items): return paginate(call, items.map { mergeRequestJSON($0.0, $0.1, viewer: call.user, single: false) })
        case .failure(let refusal): return refusal.response
        }
    }

    struct ListRefusal: Error { var response: SandboxResponse }

    /// The list filters and order shared by the project and instance lists (apis.md §6.1).
    func filterMergeRequests(_ call: APICall, _ all: [(ProjectRecord, MergeRequestRecord)],
                             defaultScope: String?) -> Result<[(ProjectRecord, MergeRequestRecord)], ListRefusal> {
        let q = call.params
        var items = all
        if let s = q.string("state"), s != "all" {
            guard ["opened", "closed", "locked", "merged"].contains(s) else { return .failure(ListRefusal(response: .error(400, "state does not have a valid value"))) }
            items = items.filter { $0.1.state == s }
        }
        if let v = q.string("source_branch") { items = items.filter { $0.1.sourceBranch == v } }
        if let v = q.string("target_branch") { items = items.filter { $0.1.targetBranch == v } }
        if let labels = q.list("labels") {
            if labels == ["None"] { items = items.filter { $0.1.labels.isEmpty } }
            else if labels == ["Any"] { items = items.filter { !$0.1.labels.isEmpty } }
            else { items = items.filter { pair in labels.allSatisfy(pair.1.labels.contains) } }
        }
        if let v = q.int("author_id") { items = items.filter { $0.1.authorID == v } }
        if let v = q.string("author_username") {
            let id = state.withLock { $0.user(named: v)?.id }
            items = items.filter { $0.1.authorID == id }
        }
        switch q.string("scope") ?? defaultScope {
        case "created_by_me", "created-by-me": items = items.filter { $0.1.authorID == call.user.id }
        case "assigned_to_me", "assigned-to-me": items = items.filter { $0.1.assigneeIDs.contains(call.user.id) }
        case "reviews_for_me": items = items.filter { $0.1.reviewerIDs.contains(call.user.id) }
        default: break
        }
        if let v = q.ints("iids"), !v.isEmpty { items = items.filter { v.contains($0.1.iid) } }
        if let v = q.string("search"), !v.isEmpty { items = items.filter { $0.1.title.contains(v) || $0.1.description.contains(v) } }
        if let draft = q.bool("draft") ?? q.string("wip").map({ $0 == "yes" }) { items = items.filter { $0.1.isDraft == draft } }
        switch q.string("order_by") {
        case "updated_at": items.sort { ($0.1.updatedAt, $0.0.id, $0.1.iid) < ($1.1.updatedAt, $1.0.id, $1.1.iid) }
        case "title": items.sort { ($0.1.title, $0.0.id, $0.1.iid) < ($1.1.title, $1.0.id, $1.1.iid) }
        default: items.sort { ($0.1.createdAt, $0.0.id, $0.1.iid) < ($1.1.createdAt, $1.0.id, $1.1.iid) }
        }
        if q.string("sort") != "asc" { items.reverse() }
        return .success(items)
    }

    // MARK: - Create / update

    func duplicateOpenMR(_ p: ProjectRecord, source: String, target: String, excluding iid: Int? = nil) -> Int? {
        p.mergeRequests.first { $0.state == "opened" && $0.sourceBranch == source && $0.targetBranch == target && $0.iid != iid }?.iid
    }

    func createMergeRequest(_ call: APICall, _ p: ProjectRecord) -> SandboxResponse {
        let q = call.params
        let missing = ["title", "source_branch", "target_branch"].filter { (q.string($0) ?? "").isEmpty }
        if !missing.isEmpty { return .error(400, missing.map { "\($0) is missing" }.joined(separator: ", ")) }
        let title = q.string("title")!, source = q.string("source_branch")!, target = q.string("target_branch")!
        if source == target { return .json(422, ["message": ["You can't use same project/branch for source and target"]]) }
        var baseErrors: [String] = []
        if p.repository.branchSHA(source) == nil { baseErrors.append("Source branch \"\(source)\" does not exist") }
        if p.repository.branchSHA(target) == nil { baseErrors.append("Target branch \"\(target)\" does not exist") }
        if !baseErrors.isEmpty { return .json(422, ["message": .strings(baseErrors)]) }
        let users = state.withLock { $0.users }
        var assignees = q.ints("assignee_ids") ?? []
        if let one = q.int("assignee_id"), one > 0 { assignees = [one] }
        let created: Result<MergeRequestRecord, DuplicateMR> = state.withLock { s in
            guard var proj = s.projects[p.id] else { return .failure(DuplicateMR(iid: 0)) }
            if let dup = duplicateOpenMR(proj, source: source, target: target) { return .failure(DuplicateMR(iid: dup)) }
            let now = Date()
            var mr = MergeRequestRecord(id: s.nextMergeRequestID, iid: (proj.mergeRequests.map(\.iid).max() ?? 0) + 1, projectID: p.id,
                                        title: title, description: q.string("description") ?? "", sourceBranch: source, targetBranch: target,
                                        authorID: call.user.id, createdAt: now, updatedAt: now)
            s.nextMergeRequestID += 1
            mr.labels = Self.uniqueLabels(q.list("labels") ?? [])
            mr.assigneeIDs = assignees.filter { users[$0] != nil }
            mr.reviewerIDs = (q.ints("reviewer_ids") ?? []).filter { users[$0] != nil }
            mr.forceRemoveSourceBranch = q.bool("remove_source_branch")
            mr.squash = q.bool("squash") ?? false
            mr.approvalsRequired = q.int("approvals_before_merge")
            proj.mergeRequests.append(mr)
            s.projects[p.id] = proj
            return .success(mr)
        }
        switch created {
        case .failure(let dup) where dup.iid > 0:
            return .json(409, ["message": .strings(["Another open merge request already exists for this source branch: !\(dup.iid)"])])
        case .failure: return .message(404, "404 Project Not Found")
        case .success(let mr):
            let fresh = state.withLock { $0.projects[p.id] } ?? p
            let response = SandboxResponse.json(201, mergeRequestJSON(fresh, mr, viewer: call.user, single: true))
            emitMergeRequest(projectID: p.id, iid: mr.iid, action: "open", userID: call.user.id)
            return response
        }
    }

    struct DuplicateMR: Error { var iid: Int }

    static func uniqueLabels(_ labels: [String]) -> [String] {
        var seen = Set<String>()
        return labels.filter { seen.insert($0).inserted }
    }

    static let updateParams = ["assignee_id", "assignee_ids", "reviewer_ids", "description", "labels", "add_labels", "remove_labels",
                               "milestone_id", "remove_source_branch", "allow_collaboration", "allow_maintainer_to_push", "squash",
                               "target_branch", "title", "state_event", "discussion_locked"]

    func updateMergeRequest(_ call: APICall, _ p: ProjectRecord, _ mr: MergeRequestRecord) -> SandboxResponse {
        let q = call.params
        guard Self.updateParams.contains(where: q.has) else {
            return .error(400, Self.updateParams.joined(separator: ", ") + " are missing, at least one parameter must be provided")
        }
        if let event = q.string("state_event"), !["close", "reopen"].contains(event) {
            return .error(400, "state_event does not have a valid value")
        }
        let target = q.string("target_branch") ?? mr.targetBranch
        if q.has("target_branch"), p.repository.branchSHA(target) == nil {
            return .json(422, ["message": .strings(["Target branch \"\(target)\" does not exist"])])
        }
        if target == mr.sourceBranch { return .json(422, ["message": ["You can't use same project/branch for source and target"]]) }
        let reopening = q.string("state_event") == "reopen" && mr.state == "closed"
        if reopening || (mr.state == "opened" && target != mr.targetBranch),
           let dup = duplicateOpenMR(p, source: mr.sourceBranch, target: target, excluding: mr.iid) {
            return .json(409, ["message": .strings(["Another open merge request already exists for this source branch: !\(dup)"])])
        }
        let users = state.withLock { $0.users }
        let frozen = headSHA(p, mr)
        var closedNow = false
        let updated = updateMergeRequest(projectID: p.id, iid: mr.iid) { m, _ in
            if let v = q.string("title") { m.title = v }
            if let v = q.string("description") { m.description = v }
            m.targetBranch = target
            if let v = q.list("labels") { m.labels = Self.uniqueLabels(v) }
            if let v = q.list("add_labels") { m.labels = Self.uniqueLabels(m.labels + v) }
            if let v = q.list("remove_labels") { m.labels.removeAll(where: v.contains) }
            if let v = q.ints("assignee_ids") { m.assigneeIDs = v.filter { users[$0] != nil } }
            if let v = q.int("assignee_id") { m.assigneeIDs = v > 0 && users[v] != nil ? [v] : [] }
            if let v = q.ints("reviewer_ids") { m.reviewerIDs = v.filter { users[$0] != nil } }
            if let v = q.bool("remove_source_branch") { m.forceRemoveSourceBranch = v }
            if let v = q.bool("squash") { m.squash = v }
            switch q.string("state_event") {
            case "close" where m.state == "opened":
                m.state = "closed"; m.closedAt = Date(); m.closedByID = call.user.id; m.frozenSHA = frozen; m.autoMerge = false
                closedNow = true
            case "reopen" where m.state == "closed":
                m.state = "opened"; m.closedAt = nil; m.closedByID = nil
            default: break
            }
            m.updatedAt = Date()
        }
        if closedNow { addSystemNote(projectID: p.id, iid: mr.iid, userID: call.user.id, body: "closed") }
        let fresh = state.withLock { $0.projects[p.id] } ?? p
        guard let result = fresh.mergeRequests.first(where: { $0.iid == mr.iid }) ?? updated else { return .message(404, "404 Merge Request Not Found") }
        let response = SandboxResponse.json(200, mergeRequestJSON(fresh, result, viewer: call.user, single: true))
        if closedNow {
            emitMergeRequest(projectID: p.id, iid: mr.iid, action: "close", userID: call.user.id)
        } else if mr.state == "closed" && result.state == "opened" {
            emitMergeRequest(projectID: p.id, iid: mr.iid, action: "reopen", userID: call.user.id)
        } else {
            let changes = Self.hookChanges(from: mr, to: result)
            if !changes.isEmpty { emitMergeRequest(projectID: p.id, iid: mr.iid, action: "update", userID: call.user.id, changes: changes) }
        }
        return response
    }

    /// The `changes` of a Merge Request Hook `update`: each field that differs, as `{previous, current}`.
    static func hookChanges(from old: MergeRequestRecord, to new: MergeRequestRecord) -> [(String, JSON)] {
        func change(_ previous: JSON, _ current: JSON) -> JSON { ["previous": previous, "current": current] }
        var changes: [(String, JSON)] = []
        if old.title != new.title { changes.append(("title", change(.string(old.title), .string(new.title)))) }
        if old.isDraft != new.isDraft { changes.append(("draft", change(.bool(old.isDraft), .bool(new.isDraft)))) }
        if old.description != new.description { changes.append(("description", change(.string(old.description), .string(new.description)))) }
        if old.targetBranch != new.targetBranch { changes.append(("target_branch", change(.string(old.targetBranch), .string(new.targetBranch)))) }
        if old.labels != new.labels {
            changes.append(("labels", change(.array(old.labels.map { ["title": .string($0)] }), .array(new.labels.map { ["title": .string($0)] }))))
        }
        if old.assigneeIDs != new.assigneeIDs { changes.append(("assignees", change(.array(old.assigneeIDs.map(JSON.int)), .array(new.assigneeIDs.map(JSON.int))))) }
        if old.reviewerIDs != new.reviewerIDs { changes.append(("reviewers", change(.array(old.reviewerIDs.map(JSON.int)), .array(new.reviewerIDs.map(JSON.int))))) }
        if !changes.isEmpty { changes.append(("updated_at", change(.date(old.updatedAt), .date(new.updatedAt)))) }
        return changes
    }

    // MARK: - Merge

    func mergeMergeRequest(_ call: APICall, _ p: ProjectRecord, _ mr: MergeRequestRecord) -> SandboxResponse {
        let q = call.params
        guard call.user.role.canWrite else { return .unauthorized }
        let head = headSHA(p, mr)
        if let sha = q.string("sha"), !sha.isEmpty, mr.state == "opened", sha != head {
            return .message(409, "SHA does not match HEAD of source branch: \(head ?? "")")
        }
        let removeSource = q.bool("should_remove_source_branch") ?? q.bool("remove_source_branch")
        let squash = q.bool("squash")
        let auto = q.bool("auto_merge") == true || q.bool("merge_when_pipeline_succeeds") == true
        let status = detailedMergeStatus(p, mr)
        if auto && mr.state == "opened" {
            let pipeline = headPipeline(p, sha: head)
            let schedulable = ["ci_still_running", "not_approved", "mergeable"].contains(status)
            if schedulable && (pipeline?.isActive == true || status == "not_approved") {
                let updated = updateMergeRequest(projectID: p.id, iid: mr.iid) { m, _ in
                    m.autoMerge = true
                    m.autoMergeUserID = call.user.id
                    if let removeSource { m.shouldRemoveSourceBranch = removeSource }
                    if let squash { m.squash = squash }
                    m.updatedAt = Date()
                }
                addSystemNote(projectID: p.id, iid: mr.iid, userID: call.user.id, body: "enabled an automatic merge when all merge checks for \(head ?? "") pass")
                let fresh = state.withLock { $0.projects[p.id] } ?? p
                return .json(200, mergeRequestJSON(fresh, updated ?? mr, viewer: call.user, single: true))
            }
        }
        guard status == "mergeable" else { return .message(405, "405 Method Not Allowed") }
        do {
            let merged = try performMerge(projectID: p.id, iid: mr.iid, userID: call.user.id, squash: squash, removeSource: removeSource,
                                          mergeMessage: q.string("merge_commit_message"), squashMessage: q.string("squash_commit_message"))
            let fresh = state.withLock { $0.projects[p.id] } ?? p
            return .json(200, mergeRequestJSON(fresh, merged, viewer: call.user, single: true))
        } catch MergeFailure.notMergeable {
            return .message(405, "405 Method Not Allowed")
        } catch {
            updateMergeRequest(projectID: p.id, iid: mr.iid) { m, _ in m.mergeError = "\(error)" }
            return .message(422, "Branch cannot be merged")
        }
    }

    // MARK: - Approvals

    func approvalsJSON(_ projectID: Int, _ iid: Int, viewer: UserRecord) -> JSON {
        guard let p = state.withLock({ $0.projects[projectID] }), let mr = p.mergeRequests.first(where: { $0.iid == iid }) else { return nil }
        let required = approvalsRequired(p, mr)
        let approvals = effectiveApprovals(p, mr)
        let left = max(0, required - approvals.count)
        let approvedBy: [JSON] = approvals.map { ["user": userJSON(id: $0.userID), "approved_at": .date($0.at)] }
        let hasApproved = approvals.contains { $0.userID == viewer.id }
        return [
            "id": .int(mr.id), "iid": .int(mr.iid), "project_id": .int(p.id), "title": .string(mr.title),
            "description": .string(mr.description), "state": .string(mr.state), "created_at": .date(mr.createdAt),
            "updated_at": .date(mr.updatedAt), "merge_status": "can_be_merged",
            "approved": .bool(left == 0), "approvals_required": .int(required), "approvals_left": .int(left),
            "require_password_to_approve": false, "approved_by": .array(approvedBy), "suggested_approvers": [],
            "approvers": [], "approver_groups": [], "user_has_approved": .bool(hasApproved),
            "user_can_approve": .bool(!hasApproved && viewer.id != mr.authorID && mr.state == "opened"),
            "approval_rules_left": [], "has_approval_rules": .bool(required > 0),
            "merge_request_approvers_available": false, "multiple_approval_rules_available": false, "invalid_approvers_rules": [],
        ]
    }

    // MARK: - Notes

    func handleNotes(_ call: APICall, _ p: ProjectRecord, _ mr: MergeRequestRecord, _ rest: [String]) -> SandboxResponse {
        let m = call.req.method == "HEAD" ? "GET" : call.req.method
        switch (m, rest.count) {
        case ("GET", 0):
            var notes = mr.notes
            if call.params.string("order_by") == "updated_at" { notes.sort { ($0.updatedAt, $0.id) < ($1.updatedAt, $1.id) } }
            if call.params.string("sort") != "asc" { notes.reverse() }
            return paginate(call, notes.map { noteJSON($0, mr, p) })
        case ("POST", 0):
            guard let body = call.params.string("body"), !body.isEmpty else { return .error(400, "body is missing") }
            var note: NoteRecord?
            let updated = updateMergeRequest(projectID: p.id, iid: mr.iid) { m, s in
                let now = Date()
                let n = NoteRecord(id: s.nextNoteID, body: body, authorID: call.user.id, system: false, createdAt: now, updatedAt: now)
                s.nextNoteID += 1
                m.notes.append(n)
                note = n
            }
            guard let note, let updated else { return .message(404, "404 Merge Request Not Found") }
            let response = SandboxResponse.json(201, noteJSON(note, updated, p))
            emitNote(projectID: p.id, iid: mr.iid, noteID: note.id)
            return response
        default: break
        }
        guard let id = Int(rest[0]), let existing = mr.notes.first(where: { $0.id == id }) else { return .message(404, "404 Note Not Found") }
        switch (m, rest.count) {
        case ("GET", 1): return .json(200, noteJSON(existing, mr, p))
        case ("PUT", 1):
            guard let body = call.params.string("body"), !body.isEmpty else { return .error(400, "body is missing") }
            guard existing.authorID == call.user.id || call.user.role == .admin else { return .forbidden }
            var note = existing
            let updated = updateMergeRequest(projectID: p.id, iid: mr.iid) { m, _ in
                guard let index = m.notes.firstIndex(where: { $0.id == id }) else { return }
                m.notes[index].body = body
                m.notes[index].updatedAt = Date()
                note = m.notes[index]
            }
            return .json(200, noteJSON(note, updated ?? mr, p))
        case ("DELETE", 1):
            guard existing.authorID == call.user.id || call.user.role == .admin else { return .forbidden }
            updateMergeRequest(projectID: p.id, iid: mr.iid) { m, _ in m.notes.removeAll { $0.id == id } }
            return SandboxResponse(status: 204)
        default: return .routeNotFound
        }
    }
}
