import Foundation

// Merge-request state machine: mergeability, merging, approvals, pipelines and auto-merge.
extension Sandbox {
    /// Current head SHA of an MR: the source branch tip while open, frozen afterwards.
    func headSHA(_ p: ProjectRecord, _ mr: MergeRequestRecord) -> String? {
        if mr.state == "opened", let sha = p.repository.branchSHA(mr.sourceBranch) { return sha }
        return mr.frozenSHA
    }

    /// The newest pipeline for `sha`.
    func headPipeline(_ p: ProjectRecord, sha: String?) -> PipelineRecord? {
        guard let sha else { return nil }
        return p.pipelines.last { $0.sha == sha }
    }

    func approvalsRequired(_ p: ProjectRecord, _ mr: MergeRequestRecord) -> Int {
        mr.approvalsRequired ?? p.approvalsRequired
    }

    /// The approvals that still count: with `resetApprovalsOnPush`, only those given on the current head,
    /// as GitLab drops every approval when commits are pushed to the source branch.
    func effectiveApprovals(_ p: ProjectRecord, _ mr: MergeRequestRecord) -> [(userID: Int, at: Date, sha: String?)] {
        guard p.resetApprovalsOnPush, mr.state == "opened" else { return mr.approvals }
        let head = headSHA(p, mr)
        return mr.approvals.filter { $0.sha == head }
    }

    /// Cached three-way merge of `source` into `target`: the merged tree, or nil on conflict.
    func cachedMergeTree(_ repo: GitRepository, target: String, source: String) throws -> String? {
        let key = "\(target)..\(source)"
        if let cached = state.withLock({ $0.mergeTreeCache[key] }) { return cached }
        let tree = try repo.mergeTree(target: target, source: source)
        state.withLock { $0.mergeTreeCache[key] = .some(tree) }
        return tree
    }

    func cachedIsAncestor(_ repo: GitRepository, _ a: String, of b: String) throws -> Bool {
        let key = "\(a)..\(b)"
        if let cached = state.withLock({ $0.ancestorCache[key] }) { return cached }
        let value = try repo.isAncestor(a, of: b)
        state.withLock { $0.ancestorCache[key] = value }
        return value
    }

    /// GitLab's `detailed_merge_status` (apis.md §6.3), computed now.
    func detailedMergeStatus(_ p: ProjectRecord, _ mr: MergeRequestRecord) -> String {
        guard mr.state == "opened" else { return "not_open" }
        if mr.isDraft { return "draft_status" }
        guard let source = p.repository.branchSHA(mr.sourceBranch), let target = p.repository.branchSHA(mr.targetBranch) else {
            return "commits_status"
        }
        if p.mergeabilityDelay > 0 {
            let key = "\(p.id)!\(mr.iid)@\(source)"
            let firstSeen = state.withLock { s in
                if let seen = s.headFirstSeen[key] { return seen }
                s.headFirstSeen[key] = Date()
                return Date()
            }
            if Date().timeIntervalSince(firstSeen) < p.mergeabilityDelay { return "checking" }
        }
        do {
            if try cachedMergeTree(p.repository, target: target, source: source) == nil { return "conflict" }
            if p.mergeMethod != .merge, try !cachedIsAncestor(p.repository, target, of: source) { return "need_rebase" }
        } catch {
            return "checking"
        }
        if let pipeline = headPipeline(p, sha: source) {
            if pipeline.isActive { return "ci_still_running" }
            if p.pipelineMustSucceed, ["failed", "canceled", "canceling", "skipped"].contains(pipeline.status) { return "ci_must_pass" }
        }
        if effectiveApprovals(p, mr).count < approvalsRequired(p, mr) { return "not_approved" }
        return "mergeable"
    }

    /// Why a merge did not happen.
    enum MergeFailure: Error {
        case notMergeable(String)
        case failed(String)
    }

    /// Merges MR `iid` now (caller already decided it may). Serialised on `repoQueue`.
    /// Returns the updated record. Hooks get a Push Hook for the target branch, the MR's `merge`, and a Push
    /// Hook deleting the source branch when it was removed.
    func performMerge(projectID: Int, iid: Int, userID: Int, squash: Bool?, removeSource: Bool?,
                      mergeMessage: String? = nil, squashMessage: String? = nil) throws -> MergeRequestRecord {
        let (merged, target, newTip, removedSource) = try repoQueue.sync { () throws -> (MergeRequestRecord, String, String, String?) in
            guard let p = state.withLock({ $0.projects[projectID] }), var mr = p.mergeRequests.first(where: { $0.iid == iid }) else {
                throw MergeFailure.failed("merge request vanished")
            }
            let status = detailedMergeStatus(p, mr)
            guard status == "mergeable" else { throw MergeFailure.notMergeable(status) }
            let repo = p.repository
            guard let source = repo.branchSHA(mr.sourceBranch), let target = repo.branchSHA(mr.targetBranch) else {
                throw MergeFailure.failed("branch missing")
            }
            guard let tree = try cachedMergeTree(repo, target: target, source: source) else { throw MergeFailure.failed("conflict") }
            let author = state.withLock { $0.users[userID].map { "\($0.name) <\($0.username)@sandbox.invalid>" } } ?? "Administrator"
            let doSquash = squash ?? mr.squash
            let reference = "\(p.path)!\(mr.iid)"
            var headForMerge = source
            var squashSHA: String?
            if doSquash {
                let message = squashMessage ?? mr.title
                squashSHA = try repo.commitTree(tree, parents: [target], message: message, author: author, date: now)
                headForMerge = squashSHA!
            }
            let newTip: String
            switch p.mergeMethod {
            case .ff:
                newTip = headForMerge
            case .merge, .rebaseMerge:
                let message = mergeMessage ?? "Merge branch '\(mr.sourceBranch)' into '\(mr.targetBranch)'\n\n\(mr.title)\n\nSee merge request \(reference)"
                newTip = try repo.commitTree(tree, parents: [target, headForMerge], message: message, author: author, date: now)
            }
            try repo.updateBranch(mr.targetBranch, to: newTip, from: target)
            let now = self.now
            mr.state = "merged"
            mr.mergedAt = now
            mr.updatedAt = now
            mr.mergedByID = userID
            mr.mergeCommitSHA = p.mergeMethod == .ff && !doSquash ? nil : newTip
            if p.mergeMethod == .ff { mr.mergeCommitSHA = newTip }
            mr.squashCommitSHA = squashSHA
            mr.frozenSHA = source
            mr.autoMerge = false
            mr.mergeError = nil
            if doSquash { mr.squash = true }
            let remove = removeSource ?? mr.shouldRemoveSourceBranch ?? mr.forceRemoveSourceBranch ?? false
            if let removeSource { mr.shouldRemoveSourceBranch = removeSource }
            var removedSource: String?
            if remove, mr.sourceBranch != p.defaultBranch, p.protected[mr.sourceBranch] == nil, (try? repo.deleteBranch(mr.sourceBranch)) != nil {
                removedSource = source
            }
            let final = mr
            state.withLock { s in
                guard var proj = s.projects[projectID], let index = proj.mergeRequests.firstIndex(where: { $0.iid == iid }) else { return }
                proj.mergeRequests[index] = final
                s.projects[projectID] = proj
            }
            return (final, target, newTip, removedSource)
        }
        branchMoved(projectID: projectID, branch: merged.targetBranch, from: target, to: newTip, userID: userID)
        emitMergeRequest(projectID: projectID, iid: iid, action: "merge", userID: userID)
        if let removedSource { branchMoved(projectID: projectID, branch: merged.sourceBranch, from: removedSource, to: nil, userID: userID) }
        return merged
    }

    /// Mutates MR `iid` of project `projectID` under the lock.
    @discardableResult
    func updateMergeRequest(projectID: Int, iid: Int, _ body: (inout MergeRequestRecord, inout SandboxState) -> Void) -> MergeRequestRecord? {
        state.withLock { s in
            guard var p = s.projects[projectID], let index = p.mergeRequests.firstIndex(where: { $0.iid == iid }) else { return nil }
            var mr = p.mergeRequests[index]
            body(&mr, &s)
            p = s.projects[projectID] ?? p
            p.mergeRequests[index] = mr
            s.projects[projectID] = p
            return mr
        }
    }

    func addSystemNote(projectID: Int, iid: Int, userID: Int, body: String) {
        updateMergeRequest(projectID: projectID, iid: iid) { mr, s in
            let now = Date()
            mr.notes.append(NoteRecord(id: s.nextNoteID, body: body, authorID: userID, system: true, createdAt: now, updatedAt: now))
            s.nextNoteID += 1
        }
    }

    /// Merges MRs with auto-merge scheduled whose checks now pass; aborts them when their pipeline failed.
    func runAutoMerges(projectID: Int) {
        guard let p = state.withLock({ $0.projects[projectID] }) else { return }
        for mr in p.mergeRequests where mr.state == "opened" && mr.autoMerge {
            let sha = headSHA(p, mr)
            if let pipeline = headPipeline(p, sha: sha), ["failed", "canceled"].contains(pipeline.status) {
                updateMergeRequest(projectID: projectID, iid: mr.iid) { m, _ in m.autoMerge = false; m.mergeError = "Pipeline failed" }
                addSystemNote(projectID: projectID, iid: mr.iid, userID: mr.autoMergeUserID ?? mr.authorID,
                              body: "aborted the automatic merge because the pipeline failed")
                continue
            }
            guard detailedMergeStatus(p, mr) == "mergeable" else { continue }
            _ = try? performMerge(projectID: projectID, iid: mr.iid, userID: mr.autoMergeUserID ?? mr.authorID, squash: nil, removeSource: nil)
        }
    }

    /// Records an approval by `userID`. Returns an error message when GitLab would refuse (401).
    /// Hooks get `approved` when the MR now has every approval it needs, else `approval` (GitLab EE's rule).
    func recordApproval(projectID: Int, iid: Int, userID: Int) -> String? {
        var refusal: String?
        guard let p = state.withLock({ $0.projects[projectID] }),
              let current = p.mergeRequests.first(where: { $0.iid == iid }) else { return "404 Not found" }
        let head = headSHA(p, current)
        let counted = Set(effectiveApprovals(p, current).map(\.userID))
        updateMergeRequest(projectID: projectID, iid: iid) { mr, _ in
            if mr.authorID == userID { refusal = "the author cannot approve their own merge request"; return }
            if counted.contains(userID) { refusal = "the user already approved this merge request"; return }
            if mr.state != "opened" { refusal = "the merge request is not open"; return }
            mr.approvals.removeAll { $0.userID == userID }
            mr.approvals.append((userID, Date(), head))
            mr.updatedAt = Date()
        }
        if refusal == nil {
            addSystemNote(projectID: projectID, iid: iid, userID: userID, body: "approved this merge request")
            emitMergeRequest(projectID: projectID, iid: iid, action: isApproved(projectID: projectID, iid: iid) ? "approved" : "approval", userID: userID)
            runAutoMerges(projectID: projectID)
        }
        return refusal
    }

    /// Withdraws `userID`'s approval. Returns false when there was none. Hooks get `unapproved` when the MR had
    /// every approval it needed before, else `unapproval`.
    func recordUnapproval(projectID: Int, iid: Int, userID: Int) -> Bool {
        guard let mr = state.withLock({ $0.projects[projectID]?.mergeRequests.first { $0.iid == iid } }),
              mr.approvals.contains(where: { $0.userID == userID }) else { return false }
        let wasApproved = isApproved(projectID: projectID, iid: iid)
        updateMergeRequest(projectID: projectID, iid: iid) { mr, _ in mr.approvals.removeAll { $0.userID == userID } }
        addSystemNote(projectID: projectID, iid: iid, userID: userID, body: "unapproved this merge request")
        emitMergeRequest(projectID: projectID, iid: iid, action: wasApproved ? "unapproved" : "unapproval", userID: userID)
        return true
    }

    /// Whether MR `iid` has every approval it needs.
    func isApproved(projectID: Int, iid: Int) -> Bool {
        guard let p = state.withLock({ $0.projects[projectID] }), let mr = p.mergeRequests.first(where: { $0.iid == iid }) else { return false }
        return effectiveApprovals(p, mr).count >= approvalsRequired(p, mr)
    }

    // MARK: - In-process API

    /// Approves MR `iid` as `username`, under GitLab's rules: the author cannot approve and no
    /// one approves twice. Throws `SandboxError` when refused or when the project/MR/user is unknown.
    public func approve(project: String, iid: Int, username: String) throws {
        let p = try requireProject(project)
        guard p.mergeRequests.contains(where: { $0.iid == iid }) else { throw SandboxError.mergeRequestNotFound(p.path, iid) }
        guard let user = state.withLock({ $0.user(named: username) }) else {
            throw SandboxError("sandbox: user '\(username)' does not exist; add it with addUser(_:token:role:)")
        }
        if let refusal = recordApproval(projectID: p.id, iid: iid, userID: user.id) {
            throw SandboxError("sandbox: \(username) cannot approve \(p.path)!\(iid): \(refusal)")
        }
    }

    /// Sets the status of the pipeline for `sha` (creating one on the branch whose tip it is),
    /// as CI would. `success` triggers scheduled auto-merges; `failed`/`canceled` abort them.
    /// Hooks get a Pipeline Hook when the pipeline is new or its status changed. Unknown projects are ignored.
    public func setPipeline(project: String, sha: String, status: String) {
        guard let p = state.withLock({ $0.project(project) }) else { return }
        var ref = p.defaultBranch
        if p.repository.branchSHA(p.defaultBranch) != sha {
            if let mr = p.mergeRequests.last(where: { headSHA(p, $0) == sha }) { ref = mr.sourceBranch }
            else if let branch = (try? p.repository.branches())?.first(where: { $0.sha == sha }) { ref = branch.name }
        }
        let changed = state.withLock { s -> Int? in
            guard var proj = s.projects[p.id] else { return nil }
            let now = Date()
            var changed: Int?
            if let index = proj.pipelines.lastIndex(where: { $0.sha == sha }) {
                if proj.pipelines[index].status != status { changed = proj.pipelines[index].id }
                proj.pipelines[index].status = status
                proj.pipelines[index].updatedAt = now
            } else {
                proj.pipelines.append(PipelineRecord(id: s.nextPipelineID, iid: proj.pipelines.count + 1, sha: sha, ref: ref, status: status,
                                                     source: "push", createdAt: now, updatedAt: now))
                changed = s.nextPipelineID
                s.nextPipelineID += 1
            }
            s.projects[p.id] = proj
            return changed
        }
        if let changed { emitPipeline(projectID: p.id, pipelineID: changed) }
        runAutoMerges(projectID: p.id)
    }

    /// Snapshots of the project's merge requests, by iid. Empty for unknown projects.
    public func mergeRequests(project: String) -> [SandboxMergeRequest] {
        guard let p = state.withLock({ $0.project(project) }) else { return [] }
        let users = state.withLock { $0.users }
        func name(_ id: Int) -> String { users[id]?.username ?? "unknown" }
        return p.mergeRequests.map { mr in
            SandboxMergeRequest(
                iid: mr.iid, title: mr.title, description: mr.description, state: mr.state,
                sourceBranch: mr.sourceBranch, targetBranch: mr.targetBranch, labels: mr.labels, sha: headSHA(p, mr),
                author: name(mr.authorID), assignees: mr.assigneeIDs.map(name), reviewers: mr.reviewerIDs.map(name),
                approvedBy: effectiveApprovals(p, mr).map { name($0.userID) },
                notes: mr.notes.map { SandboxNote(id: $0.id, body: $0.body, author: name($0.authorID), system: $0.system) },
                mergeWhenPipelineSucceeds: mr.autoMerge, mergeCommitSHA: mr.mergeCommitSHA,
                shouldRemoveSourceBranch: mr.shouldRemoveSourceBranch ?? mr.forceRemoveSourceBranch ?? false, squash: mr.squash)
        }
    }
}
