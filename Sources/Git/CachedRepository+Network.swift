import CGit2
import Foundation

extension CachedRepository {
    // MARK: - Fetch

    /// Lists the remote's refs and fetches only the wanted branches whose tips are not already local.
    ///
    /// One round trip when nothing moved (the ref listing); two when objects are needed. The first call on a
    /// fresh cache folder is the clone. Afterwards `refs/remotes/origin/<branch>` equals the remote tip for every
    /// wanted branch; tracking refs of wanted branches that vanished from the remote are deleted.
    ///
    /// A transient failure (see `GitTransportOptions.retry`) starts the whole refresh again from the ref
    /// listing. A download cut off halfway changes nothing the next attempt relies on: refs move only after
    /// a complete download, and objects become visible only once their pack is complete.
    /// - Parameter branches: short branch names, e.g. `["main", "promote/app-prod"]`.
    /// - Returns: tips of the wanted branches that exist remotely (missing branches are absent, not an error),
    ///   whether a download happened, and every advertised branch.
    /// - Throws: `GitError` (`.network`, `.authentication`, `.certificate`, `.invalidArgument`, `.other`;
    ///   `attempts` says how often it was tried), or the request permit's error.
    ///
    /// Runs on a thread of its own, under the repository's lock (this is also what lets a retry wait
    /// with a thread sleep and the request permit block).
    public func refresh(branches: [String]) async throws -> RefreshResult {
        try await offPool { try $0.blockingRefresh(branches: branches) }
    }

    /// `refresh(branches:)` on the calling thread, which may block.
    ///
    /// A clone known to be damaged is deleted and cloned again first; a refresh that fails for any reason
    /// but a full disk or the remote (`GitError.isTransport`) checks the clone (`verify()`), and when that
    /// finds damage, deletes it and tries once more from a new clone. Each recovery is reported in `RefreshResult.recovered`. A successful
    /// refresh compacts the clone when it is due (`compactIfNeeded`) and sets the folder's modification
    /// time (the pruner's "used recently").
    func blockingRefresh(branches: [String]) throws -> RefreshResult {
        try locked("fetching") {
            for branch in branches { _ = try Self.headsRef(branch, operation: "refresh \(branch)") }
            if let damage = folder.damage { try folder.recreate(because: damage) }
            var result: RefreshResult
            do {
                result = try refreshOnce(branches: branches)
            } catch let error as GitError where error.kind != .diskFull && !error.isTransport {
                guard let damage = damageFound() else { throw error }
                try folder.recreate(because: damage)
                result = try refreshOnce(branches: branches)
            }
            result.compactionFailure = compactIfNeeded()
            result.recovered = folder.recoveries
            folder.recoveries = []
            folder.touch()
            return result
        }
    }

    /// Fetches what moved and sets the tracking refs (caller holds the lock).
    private func refreshOnce(branches: [String]) throws -> RefreshResult {
        let (remoteRefs, tips, fetched) = try withRetries { try fetchTips(of: branches) }
        for branch in branches {
            if let tip = tips[branch] {
                try handle.setReference(Self.trackingRef(branch), to: tip, log: "promobot: refresh")
            } else {
                try handle.deleteReference(Self.trackingRef(branch))
            }
        }
        return RefreshResult(tips: tips, fetched: fetched, remoteRefs: remoteRefs)
    }

    /// One attempt of `refresh`: lists the remote's refs and downloads the objects of wanted branches whose
    /// tips are missing locally. Moves no ref.
    private func fetchTips(of branches: [String]) throws -> (remoteRefs: [String: ObjectID], tips: [String: ObjectID], fetched: Bool) {
        let session = try openSession()
        counterCell.add(refListings: 1)
        let remoteRefs = Self.branchTips(try session.connectAndList(direction: GIT_DIRECTION_FETCH))
        var tips: [String: ObjectID] = [:]
        var missing: [String] = []
        for branch in branches {
            guard let tip = remoteRefs[branch] else { continue }
            tips[branch] = tip
            if !handle.objectExists(tip) { missing.append(branch) }
        }
        guard !missing.isEmpty else { return (remoteRefs, tips, false) }
        counterCell.add(fetches: 1)
        try session.download(refspecs: missing.map { "+refs/heads/\($0):\(Self.trackingRef($0))" })
        return (remoteRefs, tips, true)
    }

    /// The remote tips of `branches` from one ref listing; nothing is downloaded and no local ref changes.
    /// Transient failures are retried per `GitTransportOptions.retry`.
    /// - Returns: tips of the branches that exist remotely (missing ones are absent).
    /// - Throws: `GitError` (`.network`, `.authentication`, `.certificate`, `.invalidArgument`, `.other`),
    ///   or the request permit's error.
    ///
    /// Runs on a thread of its own, under the repository's lock.
    public func remoteTips(branches: [String]) async throws -> [String: ObjectID] {
        try await offPool { try $0.blockingRemoteTips(branches: branches) }
    }

    /// `remoteTips(branches:)` on the calling thread, which may block.
    func blockingRemoteTips(branches: [String]) throws -> [String: ObjectID] {
        try locked {
            for branch in branches { _ = try Self.headsRef(branch, operation: "remoteTips \(branch)") }
            return try withRetries {
                let session = try openSession()
                counterCell.add(refListings: 1)
                let remoteRefs = Self.branchTips(try session.connectAndList(direction: GIT_DIRECTION_FETCH))
                return remoteRefs.filter { branches.contains($0.key) }
            }
        }
    }

    /// The local tracking tip of `branch` as of the last `refresh` or `push` (no network).
    ///
    /// Runs on a thread of its own, under the repository's lock (which a push may hold for a round trip).
    public func localTip(of branch: String) async throws -> ObjectID? {
        try await offPool { try $0.blockingLocalTip(of: branch) }
    }

    /// `localTip(of:)` on the calling thread, which may block.
    func blockingLocalTip(of branch: String) throws -> ObjectID? {
        try locked {
            _ = try Self.headsRef(branch, operation: "localTip \(branch)")
            return try handle.referenceTarget(Self.trackingRef(branch))
        }
    }

    static func branchTips(_ advertised: [String: ObjectID]) -> [String: ObjectID] {
        var result: [String: ObjectID] = [:]
        for (name, oid) in advertised where name.hasPrefix("refs/heads/") {
            result[String(name.dropFirst("refs/heads/".count))] = oid
        }
        return result
    }

    // MARK: - Push

    /// Pushes `commit` to `branch` with a lease: the update happens only if the remote branch is at `expected`
    /// (nil: the branch must not exist). Force-updates are allowed (the bot rebuilds its own branches).
    ///
    /// The lease is checked over the same connection as the push: the ref advertisement read on connect is
    /// compared with `expected`, and libgit2 sends that advertised value as the old value of the update, so the
    /// server's receive-pack refuses the update if the branch moved in between (for smart HTTP, between the
    /// advertisement GET and the receive-pack POST). Local-path remotes (tests) have no server-side compare:
    /// there the window is the time between connect and the ref write.
    ///
    /// Transient failures are retried per `GitTransportOptions.retry`, each attempt with its own lease check.
    /// When an attempt failed after sending the update (the answer was lost, e.g. a dropped connection after
    /// the server applied it), a later attempt that finds the branch already at `commit` reports success.
    /// - Throws: `GitError` with `.leaseRejected(actual:)` when the branch is elsewhere, `.rejected(message)`
    ///   with the server's text when a hook or branch protection refuses it, `.notFound` when `commit` is not
    ///   in this cache, and `.network` / `.authentication` / `.certificate` for transport failures; or the
    ///   request permit's error.
    ///
    /// Runs on a thread of its own, under the repository's lock.
    ///
    /// - Parameter unchanged: other branches that must still be at the given tips (e.g. the branch `commit`
    ///   was built on), checked against the same advertisement as the lease: otherwise `.baseMoved`, and
    ///   nothing is pushed. This keeps a run that observed the world before another run finished a whole
    ///   promotion from pushing the same branch again on stale facts.
    public func push(_ commit: ObjectID, to branch: String, expecting expected: ObjectID?,
                     unchanged: [String: ObjectID] = [:]) async throws {
        try await offPool { try $0.blockingPush(commit, to: branch, expecting: expected, unchanged: unchanged) }
    }

    /// `push(_:to:expecting:unchanged:)` on the calling thread, which may block.
    func blockingPush(_ commit: ObjectID, to branch: String, expecting expected: ObjectID?,
                      unchanged: [String: ObjectID] = [:]) throws {
        try locked("pushing to") {
            let ref = try Self.headsRef(branch, operation: "push \(branch)")
            guard handle.objectExists(commit) else {
                throw GitError(kind: .notFound, operation: "push \(ref)",
                               message: "commit \(commit.hex) is not in the local cache", remote: remote.redactedURL)
            }
            do {
                try handle.verifyOutgoing(commit)
            } catch let error as GitError {
                var refused = error
                refused.message = "nothing was pushed: what the push would send cannot be read back from the cache (\(error.message))"
                throw refused
            }
            let localRef = "refs/promobot/push/\(branch)"
            try handle.setReference(localRef, to: commit, log: "promobot: push source")
            defer { try? handle.deleteReference(localRef) }
            try sendUpdate(refspec: "+\(localRef):\(ref)", ref: ref, target: commit, expected: expected,
                           unchanged: unchanged, operation: "push \(ref)")
            try handle.setReference(Self.trackingRef(branch), to: commit, log: "promobot: push")
        }
    }

    /// Deletes the remote `branch` if it is still at `expected` (same lease and retry rules as `push`: after
    /// a lost answer, a later attempt that finds the branch gone reports success).
    /// - Throws: `GitError` `.leaseRejected(actual:)` (actual nil when the branch is already gone),
    ///   `.rejected(message)`, or transport errors; or the request permit's error.
    ///
    /// Runs on a thread of its own, under the repository's lock.
    public func deleteBranch(_ branch: String, expecting expected: ObjectID) async throws {
        try await offPool { try $0.blockingDeleteBranch(branch, expecting: expected) }
    }

    /// `deleteBranch(_:expecting:)` on the calling thread, which may block.
    func blockingDeleteBranch(_ branch: String, expecting expected: ObjectID) throws {
        try locked("deleting a branch of") {
            let ref = try Self.headsRef(branch, operation: "delete \(branch)")
            try sendUpdate(refspec: ":\(ref)", ref: ref, target: nil, expected: expected, operation: "delete \(ref)")
            try handle.deleteReference(Self.trackingRef(branch))
        }
    }

    /// Connects for push, checks the lease against the advertisement, uploads, and maps server refusals;
    /// retries transient failures. `target` is where the update leaves the branch (nil: deleted).
    private func sendUpdate(refspec: String, ref: String, target: ObjectID?, expected: ObjectID?,
                            unchanged: [String: ObjectID] = [:], operation: String) throws {
        // Set once an attempt has sent the update: its answer may be lost although the server applied it.
        var sent = false
        try withRetries {
            let session = try openSession()
            counterCell.add(pushes: 1)
            let advertised = try session.connectAndList(direction: GIT_DIRECTION_PUSH)
            let actual = advertised[ref]
            if sent && actual == target { return }  // an earlier attempt landed; only its answer was lost
            for (branch, tip) in unchanged.sorted(by: { $0.key < $1.key }) where advertised["refs/heads/\(branch)"] != tip {
                let now = advertised["refs/heads/\(branch)"]
                throw GitError(kind: .baseMoved(branch: branch, actual: now), operation: operation,
                               message: "refs/heads/\(branch) is at \(now?.hex ?? "<absent>"), the commit was built on \(tip.hex)",
                               remote: remote.redactedURL)
            }
            guard actual == expected else {
                throw leaseError(operation: operation, ref: ref, expected: expected, actual: actual)
            }
            session.context.expectedOld[ref] = expected
            do {
                sent = true
                try session.upload(refspecs: [refspec])
            } catch {
                if let mismatch = session.context.leaseMismatch {
                    throw leaseError(operation: operation, ref: ref, expected: expected, actual: mismatch.actual)
                }
                if let status = session.context.pushStatuses[ref] {
                    throw try rejection(status: status, session: session, ref: ref, expected: expected, operation: operation)
                }
                throw error
            }
            if let status = session.context.pushStatuses[ref] {
                throw try rejection(status: status, session: session, ref: ref, expected: expected, operation: operation)
            }
        }
    }

    /// A refused update is a lost lease when the branch has moved since; otherwise the server's own refusal.
    private func rejection(status: String, session: RemoteSession, ref: String, expected: ObjectID?,
                           operation: String) throws -> GitError {
        let serverText = session.serverText
        let check = try openSession()
        counterCell.add(refListings: 1)
        let now = try check.connectAndList(direction: GIT_DIRECTION_FETCH)[ref]
        if now != expected {
            return leaseError(operation: operation, ref: ref, expected: expected, actual: now)
        }
        let text = serverText.isEmpty ? status : "\(serverText)\n(\(status))"
        return GitError(kind: .rejected(text), operation: operation,
                        message: "the server refused the update of \(ref): \(text)", remote: remote.redactedURL)
    }

    private func leaseError(operation: String, ref: String, expected: ObjectID?, actual: ObjectID?) -> GitError {
        GitError(kind: .leaseRejected(actual: actual), operation: operation,
                 message: "\(ref) is at \(actual?.hex ?? "<absent>"), expected \(expected?.hex ?? "<absent>")",
                 remote: remote.redactedURL)
    }
}
