import Foundation
import Policies
@testable import Server
import Testing

/// Which deliveries trigger which policies: pure rules, table-tested.
@Suite struct WebhookRoutingTests {
    static let policies: [Policy] = {
        let oms = """
        version: 1
        name: oms
        repository: group/oms-deploy
        branch: master
        images: [registry.example.com/oms/app]
        stages:
          - name: dev
            paths: [dev/]
          - name: prod
            paths: [prod/]
            repository: group/oms-prod
            branch: main
        """
        let pay = """
        version: 1
        name: payments
        repository: "42"
        branch: main
        images: [registry.example.com/pay/api]
        stages:
          - name: dev
            paths: [dev/]
          - name: test
            paths: [test/]
        """
        return [oms, pay].compactMap { PolicyParser.parse(yaml: $0, path: "p.yaml").policy }
    }()


    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var event: String
        var json: String
        var expected: WebhookTarget
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "push to a stage branch", event: "Push Hook",
             json: #"{"ref": "refs/heads/master", "project": {"id": 7, "path_with_namespace": "group/oms-deploy"}}"#, expected: .policies(["oms"])),
        Case(name: "push to another branch", event: "Push Hook",
             json: #"{"ref": "refs/heads/feature", "project": {"id": 7, "path_with_namespace": "group/oms-deploy"}}"#, expected: .none),
        Case(name: "push names the project by id only", event: "Push Hook",
             json: #"{"ref": "refs/heads/main", "project_id": 42, "project": {"id": 42}}"#, expected: .policies(["payments"])),
        Case(name: "push to the second repository of a policy", event: "Push Hook",
             json: #"{"ref": "refs/heads/main", "project": {"id": 8, "path_with_namespace": "Group/OMS-Prod"}}"#, expected: .policies(["oms"])),
        Case(name: "push to the policies repository reloads", event: "Push Hook",
             json: #"{"ref": "refs/heads/main", "project": {"id": 3, "path_with_namespace": "platform/policies"}}"#, expected: .reload),
        Case(name: "tag push is ignored", event: "Push Hook",
             json: #"{"ref": "refs/tags/v1", "project": {"id": 7, "path_with_namespace": "group/oms-deploy"}}"#, expected: .none),
        Case(name: "approval on a bot MR", event: "Merge Request Hook",
             json: #"{"project": {"id": 8, "path_with_namespace": "group/oms-prod"}, "object_attributes": {"action": "approved", "source_branch": "promobot/oms/prod", "target_branch": "main"}}"#,
             expected: .policies(["oms"])),
        Case(name: "rollback MR", event: "Merge Request Hook",
             json: #"{"project": {"id": 8, "path_with_namespace": "group/oms-prod"}, "object_attributes": {"action": "merge", "source_branch": "promobot/oms/prod.rollback", "target_branch": "main"}}"#,
             expected: .policies(["oms"])),
        Case(name: "bot branch in the wrong project", event: "Merge Request Hook",
             json: #"{"project": {"id": 7, "path_with_namespace": "group/oms-deploy"}, "object_attributes": {"action": "approved", "source_branch": "promobot/oms/prod", "target_branch": "main"}}"#,
             expected: .none),
        Case(name: "a person's MR", event: "Merge Request Hook",
             json: #"{"project": {"id": 7, "path_with_namespace": "group/oms-deploy"}, "object_attributes": {"action": "open", "source_branch": "fix/readme", "target_branch": "master"}}"#,
             expected: .none),
        Case(name: "unknown policy in a bot branch", event: "Merge Request Hook",
             json: #"{"project": {"id": 7, "path_with_namespace": "group/oms-deploy"}, "object_attributes": {"action": "open", "source_branch": "promobot/ghost/dev", "target_branch": "master"}}"#,
             expected: .none),
        Case(name: "pipeline on a bot branch", event: "Pipeline Hook",
             json: #"{"project": {"id": 42}, "object_attributes": {"ref": "promobot/payments/test", "status": "success"}}"#,
             expected: .policies(["payments"])),
        Case(name: "other events", event: "Issue Hook", json: #"{"object_kind": "issue"}"#, expected: .none),
    ]

    @Test(arguments: cases) func routing(_ c: Case) throws {
        let event = try WebhookEvent.parse(eventHeader: c.event, body: Data(c.json.utf8))
        #expect(WebhookRouting.target(of: event, policies: Self.policies, policiesRepository: "platform/policies") == c.expected)
    }

    @Test func malformedDeliveriesSayWhatIsMissing() throws {
        #expect(throws: WebhookParseError.self) { try WebhookEvent.parse(eventHeader: "Push Hook", body: Data("[1]".utf8)) }
        #expect(throws: WebhookParseError.self) { try WebhookEvent.parse(eventHeader: "Push Hook", body: Data(#"{"ref": "refs/heads/x"}"#.utf8)) }
        #expect(throws: WebhookParseError.self) {
            try WebhookEvent.parse(eventHeader: "Merge Request Hook", body: Data(#"{"project": {"id": 7}}"#.utf8))
        }
        // Unknown events are not even parsed.
        let other = try WebhookEvent.parse(eventHeader: "Wiki Page Hook", body: Data("garbage".utf8))
        #expect(other == .other(kind: "Wiki Page Hook"))
    }

    @Test func theSecretComparisonIsExactAndCoversEveryByte() {
        #expect(WebhookReceiver.constantTimeEquals("s3cret", "s3cret"))
        #expect(!WebhookReceiver.constantTimeEquals("s3cret", "s3creT"))
        #expect(!WebhookReceiver.constantTimeEquals("s3cre", "s3cret"))
        #expect(!WebhookReceiver.constantTimeEquals("s3crett", "s3cret"))
        #expect(!WebhookReceiver.constantTimeEquals("", "s3cret"))
    }

    @Test func theDuplicateWindowForgetsTheOldestFirst() {
        var keys = RecentKeys(capacity: 2)
        let inserted = [keys.insert("a"), keys.insert("b"), keys.insert("a"), keys.insert("c"), keys.insert("a")]
        #expect(inserted == [true, true, false, true, true])     // "c" pushed "a" out of the window
    }
}
