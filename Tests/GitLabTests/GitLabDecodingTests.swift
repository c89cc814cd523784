import Foundation
import Testing
@testable import GitLab

/// Decoding GitLab-shaped JSON the sandbox does not produce: `null` booleans, legacy fields,
/// CE vs EE approvals, permissions, both timestamp forms.
@Suite struct GitLabDecodingTests {
    func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try GitLabJSON.decoder().decode(T.self, from: Data(json.utf8))
    }

    @Test func mergeRequestWithNullsAndLegacyFields() throws {
        let mr = try decode(MergeRequest.self, """
        {"id":901,"iid":4,"project_id":17,"title":"WIP: Promote","description":null,"state":"opened",
         "source_branch":"promobot/test/app","target_branch":"main","sha":"abc123","merge_commit_sha":null,
         "labels":["promobot"],"web_url":"https://gitlab.example.com/group/oms/-/merge_requests/4",
         "has_conflicts":null,"work_in_progress":true,"merge_when_pipeline_succeeds":null,
         "author":{"id":5,"username":"promobot","name":"Promobot"},"assignees":[{"id":6,"username":"alice","name":"A"}],
         "reviewers":[],"force_remove_source_branch":null,"should_remove_source_branch":true,
         "head_pipeline":{"id":77,"sha":"abc123","ref":"refs/merge-requests/4/head","status":"manual"},
         "user":{"can_merge":false},"created_at":"2017-04-29T08:46:00Z","updated_at":"2017-04-29T08:46:00.123Z"}
        """)
        #expect(mr.iid == 4 && mr.projectID == 17)
        #expect(mr.description == "")
        #expect(mr.draft, "work_in_progress is read when draft is absent")
        #expect(!mr.hasConflicts && !mr.mergeWhenPipelineSucceeds)
        #expect(mr.removesSourceBranch)
        #expect(mr.detailedMergeStatus == .unchecked)
        #expect(mr.headPipelineStatus == .manual)
        #expect(mr.userCanMerge == false)
        #expect(mr.assignees == ["alice"])
        #expect(mr.createdAt == Date(timeIntervalSince1970: 1_493_455_560))
        #expect(abs(mr.updatedAt.timeIntervalSince1970 - 1_493_455_560.123) < 0.001)
    }

    @Test func unknownStatusesAreKept() throws {
        let mr = try decode(MergeRequest.self, """
        {"id":1,"iid":1,"project_id":1,"title":"t","state":"merged","source_branch":"a","target_branch":"b","sha":null,
         "detailed_merge_status":"security_policy_violations","created_at":"2026-01-01T00:00:00+02:00"}
        """)
        #expect(mr.detailedMergeStatus.rawValue == "security_policy_violations")
        #expect(!mr.detailedMergeStatus.isMergeable && !mr.detailedMergeStatus.isPending)
        #expect(mr.sha == "")
        #expect(mr.createdAt == Date(timeIntervalSince1970: 1_767_218_400))
    }

    @Test func approvalsCommunityEdition() throws {
        let approvals = try decode(MergeRequestApprovals.self, """
        {"user_has_approved":false,"user_can_approve":true,"approved":true,
         "approved_by":[{"user":{"id":6,"username":"alice","name":"A"},"approved_at":"2026-01-01T00:00:00Z"}]}
        """)
        #expect(approvals.approvalsRequired == 0 && approvals.approvalsLeft == 0)
        #expect(approvals.approved && approvals.approvedBy == ["alice"])
        #expect(approvals.userCanApprove == true)
    }

    @Test func approvalsEnterpriseEdition() throws {
        let approvals = try decode(MergeRequestApprovals.self, """
        {"id":901,"iid":4,"project_id":17,"approvals_required":2,"approvals_left":1,"approved":false,
         "approved_by":[{"user":{"id":6,"username":"alice","name":"A"}}]}
        """)
        #expect(approvals.approvalsRequired == 2 && approvals.approvalsLeft == 1)
        #expect(!approvals.approved && approvals.approvedBy == ["alice"])
    }

    @Test func projectWithPermissionsAndEmptyRepo() throws {
        let project = try decode(GitLabProject.self, """
        {"id":17,"name":"oms","path_with_namespace":"group/oms","default_branch":null,"http_url_to_repo":"https://g/group/oms.git",
         "web_url":"https://g/group/oms","merge_method":"ff","empty_repo":true,"archived":null,
         "permissions":{"project_access":{"access_level":30},"group_access":{"access_level":40}}}
        """)
        #expect(project.defaultBranch == nil && project.emptyRepo && !project.archived)
        #expect(project.mergeMethod == .fastForward)
        #expect(project.accessLevel == 40)
    }

    @Test func noteAndCommitAndBranch() throws {
        let note = try decode(Note.self, """
        {"id":3,"type":null,"body":"approved this merge request","author":{"id":6,"username":"alice","name":"A"},
         "created_at":"2026-01-01T00:00:00.000Z","system":true,"noteable_iid":4}
        """)
        #expect(note.system && note.authorUsername == "alice" && note.updatedAt == note.createdAt)
        let commit = try decode(GitLabCommit.self, #"{"id":"0123456789abcdef","message":"Bump app\n\nbody","parent_ids":["f"]}"#)
        #expect(commit.title == "Bump app" && commit.shortID == "01234567" && commit.parentIDs == ["f"])
        let branch = try decode(GitLabBranch.self, #"{"name":"main","merged":false,"protected":true,"default":true,"can_push":null,"commit":{"id":"abc","title":"Init"}}"#)
        #expect(branch.protected && branch.isDefault && !branch.canPush && branch.commitSHA == "abc")
    }
}
