import Foundation

/// Who approved a merge request and how many approvals are still needed
/// (`GET …/merge_requests/:iid/approvals`). A value type: thread-safe.
///
/// GitLab Free (CE) sends no `approvals_required`/`approvals_left`; both then read as 0, and
/// `approved` is "at least one approval". Premium (EE) sends both and `approved` means "rules met".
public struct MergeRequestApprovals: Sendable, Hashable, Decodable {
    /// Approvals the rules require; 0 when GitLab does not say.
    public var approvalsRequired: Int
    /// Approvals still missing; 0 when GitLab does not say.
    public var approvalsLeft: Int
    /// GitLab's verdict (see the type's note on CE vs EE).
    public var approved: Bool
    /// Usernames of the approvers, in GitLab's order.
    public var approvedBy: [String]
    /// Whether the token's user already approved; `nil` if not sent.
    public var userHasApproved: Bool?
    /// Whether the token's user may approve; `nil` if not sent.
    public var userCanApprove: Bool?

    /// Memberwise initialiser, for fakes and tests.
    public init(approvalsRequired: Int, approvalsLeft: Int, approved: Bool, approvedBy: [String], userHasApproved: Bool? = nil, userCanApprove: Bool? = nil) {
        self.approvalsRequired = approvalsRequired; self.approvalsLeft = approvalsLeft; self.approved = approved
        self.approvedBy = approvedBy; self.userHasApproved = userHasApproved; self.userCanApprove = userCanApprove
    }

    enum CodingKeys: String, CodingKey {
        case approved
        case approvalsRequired = "approvals_required", approvalsLeft = "approvals_left", approvedBy = "approved_by"
        case userHasApproved = "user_has_approved", userCanApprove = "user_can_approve"
    }
    private struct Approval: Decodable { var user: EmbeddedUser }

    /// Decodes GitLab's approvals JSON (CE or EE shape).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        approvalsRequired = try c.decodeIfPresent(Int.self, forKey: .approvalsRequired) ?? 0
        approvalsLeft = try c.decodeIfPresent(Int.self, forKey: .approvalsLeft) ?? 0
        approvedBy = (try c.decodeIfPresent([Approval].self, forKey: .approvedBy) ?? []).map(\.user.username)
        approved = try c.decodeIfPresent(Bool.self, forKey: .approved) ?? !approvedBy.isEmpty
        userHasApproved = try c.decodeIfPresent(Bool.self, forKey: .userHasApproved)
        userCanApprove = try c.decodeIfPresent(Bool.self, forKey: .userCanApprove)
    }
}
