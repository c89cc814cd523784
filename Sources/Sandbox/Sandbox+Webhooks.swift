import Foundation

// Project hooks (apis.md §17.7) and the events the sandbox sends to them (§17.1–§17.6): the REST routes, the
// in-process API tests use, and the `emit...` calls made wherever a branch moves, an MR changes or a pipeline's
// status is set. Payloads are built in `Sandbox+WebhookJSON.swift`; `WebhookDispatcher` sends them, never
// inside the request or call that caused them.
extension Sandbox {
    // MARK: - REST: /projects/:id/hooks

    func handleHooks(_ call: APICall, _ p: ProjectRecord, _ rest: [String]) -> SandboxResponse {
        // GitLab authorizes `admin_project` on every hooks route, reads included.
        guard call.user.role >= .maintainer else { return .forbidden }
        let m = call.req.method == "HEAD" ? "GET" : call.req.method
        if rest.isEmpty {
            switch m {
            case "GET":
                let hooks = state.withLock { s in s.hooks.values.filter { $0.projectID == p.id }.sorted { $0.id < $1.id } }
                return paginate(call, hooks.map(hookJSON))
            case "POST":
                guard let url = call.params.string("url") else { return .error(400, "url is missing") }
                var hook = HookRecord(id: 0, projectID: p.id, url: url, createdAt: Date())
                if let refusal = Self.apply(call.params, to: &hook) { return refusal }
                let created = state.withLock { s -> HookRecord in
                    hook.id = s.nextHookID
                    s.nextHookID += 1
                    s.hooks[hook.id] = hook
                    return hook
                }
                return .json(201, hookJSON(created))
            default: return .routeNotFound
            }
        }
        guard rest.count == 1 else { return .routeNotFound }
        guard let id = Int(rest[0]), let existing = state.withLock({ $0.hooks[id] }), existing.projectID == p.id else {
            return .message(404, "404 Not found")
        }
        switch m {
        case "GET": return .json(200, hookJSON(existing))
        case "PUT":
            guard call.params.string("url") != nil else { return .error(400, "url is missing") }
            var hook = existing
            if let refusal = Self.apply(call.params, to: &hook) { return refusal }
            let stored = state.withLock { s -> Bool in
                guard s.hooks[id] != nil else { return false }
                s.hooks[id] = hook
                return true
            }
            return stored ? .json(200, hookJSON(hook)) : .message(404, "404 Not found")
        case "DELETE":
            let removed = state.withLock { $0.hooks.removeValue(forKey: id) }
            return removed == nil ? .message(404, "404 Not found") : SandboxResponse(status: 204)
        default: return .routeNotFound
        }
    }

    /// Applies the create/update fields present in `params` to `hook`; returns GitLab's refusal, or nil.
    /// Without a `token`, a changed `url` drops the secret, as GitLab does.
    static func apply(_ params: Params, to hook: inout HookRecord) -> SandboxResponse? {
        let oldURL = hook.url
        if let url = params.string("url") { hook.url = url }
        guard isHookURL(hook.url) else { return .error(422, "Invalid url given") }
        if let name = params.string("name") { hook.name = name }
        if let description = params.string("description") { hook.description = description }
        for event in SandboxWebhookEvent.allCases {
            guard let on = params.bool(event.field) else { continue }
            if on { hook.events.insert(event) } else { hook.events.remove(event) }
        }
        if let filter = params.string("push_events_branch_filter") { hook.pushEventsBranchFilter = filter }
        if let strategy = params.string("branch_filter_strategy") {
            guard ["wildcard", "regex", "all_branches"].contains(strategy) else {
                return .error(400, "branch_filter_strategy does not have a valid value")
            }
            hook.branchFilterStrategy = strategy
        }
        if hook.branchFilterStrategy == "regex", !hook.pushEventsBranchFilter.isEmpty, (try? Regex(hook.pushEventsBranchFilter)) == nil {
            return .error(422, "Invalid branch filter given")
        }
        if let verify = params.bool("enable_ssl_verification") { hook.enableSSLVerification = verify }
        if params.has("token") {
            let token = params.string("token") ?? ""
            hook.token = token.isEmpty ? nil : token
        } else if hook.url != oldURL {
            hook.token = nil
        }
        return nil
    }

    /// An absolute http(s) URL with a host. Loopback and private addresses are allowed (GitLab's admin setting
    /// "Allow requests to the local network from webhooks" on), so tests can receive on 127.0.0.1.
    static func isHookURL(_ text: String) -> Bool {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else { return false }
        return ["http", "https"].contains(scheme) && !(components.host ?? "").isEmpty
    }

    // MARK: - Events

    /// Queues `event` for every hook of project `projectID` that subscribes to it (for branch pushes, whose
    /// branch filter matches `branch`), building `payload` only when one does; the payload is built now, so it
    /// shows the state of the moment. Never waits for a delivery. Must not be called while holding `state`.
    func emit(_ event: SandboxWebhookEvent, projectID: Int, branch: String? = nil, payload: () -> JSON?) {
        let hooks = state.withLock { s in s.hooks.values.filter { $0.projectID == projectID && $0.wants(event, branch: branch) } }
        guard !hooks.isEmpty, let json = payload() else { return }
        let body = json.data
        let eventUUID = UUID().uuidString.lowercased()
        let instance = baseURL.absoluteString
        for hook in hooks.sorted(by: { $0.id < $1.id }) {
            webhookDispatcher.enqueue(WebhookDispatcher.Job(
                hookID: hook.id, projectID: projectID, event: event, url: hook.url, token: hook.token, body: body,
                instance: instance, eventUUID: eventUUID, idempotencyKey: UUID().uuidString.lowercased()))
        }
    }

    /// `ref` (`refs/heads/…` or `refs/tags/…`) of project `projectID` moved from `old` to `new` (nil: created,
    /// deleted), pushed by `userID` (nil: the administrator, as for CI): a Push Hook (Tag Push Hook), and for a
    /// branch that moved to new commits, a Merge Request Hook `update` with `oldrev` for each open MR from it.
    func refMoved(projectID: Int, ref: String, from old: String?, to new: String?, userID: Int?) {
        guard old != new, let p = state.withLock({ $0.projects[projectID] }) else { return }
        let user = hookUser(userID)
        if ref.hasPrefix("refs/tags/") {
            emit(.tagPush, projectID: projectID) { pushHookJSON(p, ref: ref, before: old, after: new, user: user) }
            return
        }
        guard ref.hasPrefix("refs/heads/") else { return }
        let branch = String(ref.dropFirst("refs/heads/".count))
        emit(.push, projectID: projectID, branch: branch) { pushHookJSON(p, ref: ref, before: old, after: new, user: user) }
        guard let old, new != nil else { return }
        for mr in p.mergeRequests where mr.state == "opened" && mr.sourceBranch == branch {
            emit(.mergeRequest, projectID: projectID) { mergeRequestHookJSON(p, mr, action: "update", user: user, oldrev: old) }
        }
    }

    /// `branch` of project `projectID` moved (see `refMoved`).
    func branchMoved(projectID: Int, branch: String, from old: String?, to new: String?, userID: Int?) {
        refMoved(projectID: projectID, ref: "refs/heads/\(branch)", from: old, to: new, userID: userID)
    }

    /// A Merge Request Hook `action` for MR `iid` as it is now, by `userID`.
    func emitMergeRequest(projectID: Int, iid: Int, action: String, userID: Int?, changes: [(String, JSON)] = []) {
        emit(.mergeRequest, projectID: projectID) {
            guard let p = state.withLock({ $0.projects[projectID] }), let mr = p.mergeRequests.first(where: { $0.iid == iid }) else { return nil }
            return mergeRequestHookJSON(p, mr, action: action, user: hookUser(userID), changes: changes)
        }
    }

    /// A Pipeline Hook for pipeline `pipelineID` as it is now.
    func emitPipeline(projectID: Int, pipelineID: Int) {
        emit(.pipeline, projectID: projectID) {
            guard let p = state.withLock({ $0.projects[projectID] }), let pl = p.pipelines.first(where: { $0.id == pipelineID }) else { return nil }
            return pipelineHookJSON(p, pl, user: hookUser(nil))
        }
    }

    /// A Note Hook for note `noteID` on MR `iid`.
    func emitNote(projectID: Int, iid: Int, noteID: Int) {
        emit(.note, projectID: projectID) {
            guard let p = state.withLock({ $0.projects[projectID] }), let mr = p.mergeRequests.first(where: { $0.iid == iid }),
                  let note = mr.notes.first(where: { $0.id == noteID }) else { return nil }
            return noteHookJSON(p, mr, note, user: hookUser(note.authorID))
        }
    }

    // MARK: - In-process API

    /// Adds a project hook, as `POST /projects/:id/hooks` would. Throws `SandboxError` for an unknown project
    /// or a `url` that is not an absolute http(s) URL.
    @discardableResult
    public func addWebhook(project: String, url: String, token: String? = nil, events: Set<SandboxWebhookEvent> = [.push],
                           pushEventsBranchFilter: String = "") throws -> SandboxWebhook {
        let p = try requireProject(project)
        guard Self.isHookURL(url) else { throw SandboxError("sandbox: a webhook needs an absolute http(s) URL; got '\(url)'") }
        return state.withLock { s -> SandboxWebhook in
            let hook = HookRecord(id: s.nextHookID, projectID: p.id, url: url, token: token, events: events,
                                  pushEventsBranchFilter: pushEventsBranchFilter, createdAt: Date())
            s.nextHookID += 1
            s.hooks[hook.id] = hook
            return hook.publicValue
        }
    }

    /// The project's hooks, by id. Empty for unknown projects.
    public func webhooks(project: String) -> [SandboxWebhook] {
        state.withLock { s in
            guard let p = s.project(project) else { return [] }
            return s.hooks.values.filter { $0.projectID == p.id }.sorted { $0.id < $1.id }.map(\.publicValue)
        }
    }

    /// The project's finished deliveries (answered, failed or timed out), oldest first; redeliveries included.
    /// Deliveries still queued or in flight are not listed: call `waitForWebhookDeliveries()` first.
    /// Empty for unknown projects.
    public func webhookDeliveries(project: String) -> [SandboxWebhookDelivery] {
        guard let id = state.withLock({ $0.project(project)?.id }) else { return [] }
        return webhookDispatcher.deliveries(projectID: id)
    }

    /// Returns once every delivery queued so far, and any queued meanwhile, has finished. Each delivery ends
    /// within the webhook timeout, so this is bounded by the queue's length times that timeout.
    public func waitForWebhookDeliveries() async {
        await webhookDispatcher.waitUntilIdle()
    }

    /// How long a receiver may take to answer before the delivery is recorded as `timed out` (default 10 s,
    /// GitLab's `webhook_timeout`). Applies to deliveries that start after the call.
    public func setWebhookTimeout(_ timeout: Duration) {
        webhookDispatcher.timeout = timeout
    }

    /// Sends a recorded delivery again, as GitLab's "Resend Request" does: the same body, `X-Gitlab-Event-UUID`
    /// and `Idempotency-Key`, a new `X-Gitlab-Webhook-UUID`, to the hook's current URL and token. Waits for the
    /// answer and returns the new delivery (also recorded, with `redeliveryOf` set).
    /// Throws `SandboxError` when the hook was deleted.
    public func redeliver(_ delivery: SandboxWebhookDelivery) async throws -> SandboxWebhookDelivery {
        let original = webhookDispatcher.delivery(id: delivery.id) ?? delivery
        guard let hook = state.withLock({ $0.hooks[original.hookID] }) else {
            throw SandboxError("sandbox: hook \(original.hookID) no longer exists, so delivery \(original.id) cannot be resent")
        }
        return await webhookDispatcher.send(WebhookDispatcher.Job(
            hookID: hook.id, projectID: original.projectID, event: original.event, url: hook.url, token: hook.token, body: original.body,
            instance: baseURL.absoluteString, eventUUID: original.eventUUID, idempotencyKey: original.idempotencyKey,
            redeliveryOf: original.id))
    }
}
