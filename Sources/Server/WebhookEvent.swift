import Foundation
import Planning
import Policies

/// A GitLab webhook delivery, reduced to what decides which policies to reconcile.
///
/// Events only *trigger* work: every decision is still made from what git and the GitLab API say,
/// so a forged (but authenticated) payload can at most cause an extra reconcile, never a merge.
public enum WebhookEvent: Sendable, Hashable {
    /// `Push Hook`: a branch moved (`refs/heads/<branch>`), or was created or deleted.
    case push(project: ProjectIdentity, branch: String)
    /// `Merge Request Hook` (`action`: open, update, approved, unapproved, approval, unapproval, merge, close, reopen).
    case mergeRequest(project: ProjectIdentity, sourceBranch: String, targetBranch: String, action: String)
    /// `Pipeline Hook`: a pipeline on `ref` (a branch name, also for MR pipelines) changed status.
    case pipeline(project: ProjectIdentity, ref: String)
    /// Any other event (tag pushes, notes, issues, …): answered 204 and ignored.
    case other(kind: String)

    /// The event's kind for logs and metrics labels: `push`, `merge_request`, `pipeline`, or `other`.
    public var kind: String {
        switch self {
        case .push: "push"
        case .mergeRequest: "merge_request"
        case .pipeline: "pipeline"
        case .other: "other"
        }
    }
}

/// How a webhook names its project: GitLab sends both the numeric id and the path.
public struct ProjectIdentity: Sendable, Hashable, CustomStringConvertible {
    public var id: Int?
    public var path: String

    public init(id: Int?, path: String) {
        self.id = id
        self.path = path
    }

    /// Whether a policy's `repository` (a path like `group/oms-deploy`, or a numeric id) names this project.
    public func matches(_ repository: String) -> Bool {
        if let id, repository == String(id) { return true }
        return repository.caseInsensitiveCompare(path) == .orderedSame
    }

    public var description: String { path.isEmpty ? (id.map(String.init) ?? "?") : path }
}

/// Why a delivery could not be read.
public struct WebhookParseError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

extension WebhookEvent {
    /// Reads a delivery: the `X-Gitlab-Event` header names the kind, the JSON body the details.
    ///
    /// - Throws: `WebhookParseError` for a body that is not JSON, or a known event missing the fields it needs.
    public static func parse(eventHeader: String?, body: Data) throws(WebhookParseError) -> WebhookEvent {
        let header = eventHeader ?? ""
        guard ["Push Hook", "Merge Request Hook", "Pipeline Hook"].contains(header) else {
            return .other(kind: header.isEmpty ? "unnamed" : header)
        }
        guard let object = try? JSONSerialization.jsonObject(with: body), let json = object as? [String: Any] else {
            throw WebhookParseError(description: "\(header): the body is not a JSON object")
        }
        let project = json["project"] as? [String: Any]
        let identity = ProjectIdentity(id: (project?["id"] as? Int) ?? (json["project_id"] as? Int),
                                       path: project?["path_with_namespace"] as? String ?? "")
        guard identity.id != nil || !identity.path.isEmpty else {
            throw WebhookParseError(description: "\(header): no project (project.id or project.path_with_namespace)")
        }
        switch header {
        case "Push Hook":
            guard let ref = json["ref"] as? String else { throw WebhookParseError(description: "Push Hook: no ref") }
            guard ref.hasPrefix("refs/heads/") else { return .other(kind: "Push Hook (\(ref))") }
            return .push(project: identity, branch: String(ref.dropFirst("refs/heads/".count)))
        case "Merge Request Hook":
            guard let attributes = json["object_attributes"] as? [String: Any],
                  let source = attributes["source_branch"] as? String, let target = attributes["target_branch"] as? String else {
                throw WebhookParseError(description: "Merge Request Hook: no object_attributes.source_branch/target_branch")
            }
            return .mergeRequest(project: identity, sourceBranch: source, targetBranch: target,
                                 action: attributes["action"] as? String ?? "")
        default:
            guard let attributes = json["object_attributes"] as? [String: Any], let ref = attributes["ref"] as? String else {
                throw WebhookParseError(description: "Pipeline Hook: no object_attributes.ref")
            }
            return .pipeline(project: identity, ref: ref)
        }
    }
}

/// What a webhook asks the reconcile loop to do.
public enum WebhookTarget: Sendable, Hashable {
    /// Reconcile these policies soon (coalesced with others arriving within the debounce window).
    case policies(Set<String>)
    /// The policies repository moved: reload config and policies and reconcile everything.
    case reload
    /// Nothing promobot watches.
    case none
}

/// Which policies an event concerns. Pure.
public enum WebhookRouting {
    /// - Push to a branch a stage reads (repository and branch) -> the policies with such a stage.
    /// - Merge request or pipeline on a bot branch (`promobot/<policy>/<stage>`, or its `.rollback`) of a
    ///   project the policy's stage lives in -> that policy.
    /// - Push to `policiesRepository` (optional; a path or id) -> reload.
    public static func target(of event: WebhookEvent, policies: [Policy], policiesRepository: String?) -> WebhookTarget {
        switch event {
        case let .push(project, branch):
            if let policiesRepository, project.matches(policiesRepository) { return .reload }
            let names = policies.filter { policy in
                policy.stages.contains { project.matches($0.repository) && $0.branch == branch }
            }.map(\.name)
            return names.isEmpty ? .none : .policies(Set(names))
        case let .mergeRequest(project, source, _, _):
            return botBranchTarget(source, project: project, policies: policies)
        case let .pipeline(project, ref):
            return botBranchTarget(ref, project: project, policies: policies)
        case .other:
            return .none
        }
    }

    /// The policy a bot branch belongs to, when that policy has the stage in this project.
    static func botBranchTarget(_ branch: String, project: ProjectIdentity, policies: [Policy]) -> WebhookTarget {
        guard branch.hasPrefix(MergeRequestText.branchPrefix) else { return .none }
        let parts = branch.dropFirst(MergeRequestText.branchPrefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .none }
        let stageName = parts[1].hasSuffix(".rollback") ? String(parts[1].dropLast(".rollback".count)) : String(parts[1])
        guard let policy = policies.first(where: { $0.name == parts[0] }),
              let stage = policy.stage(named: stageName), project.matches(stage.repository) else { return .none }
        return .policies([policy.name])
    }
}
