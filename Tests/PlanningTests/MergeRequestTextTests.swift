import Foundation
import Policies
import Manifests
import Testing
@testable import Planning

@Suite struct MergeRequestTextTests {
    typealias F = Fixture

    static let links = MergeRequestLinks(upstreamProjectWebURL: "https://gitlab.example.com/group/oms-deploy/",
                                         policyFileURL: "https://gitlab.example.com/group/policies/-/blob/main/oms.yaml")

    @Test func sourceBranch() {
        #expect(MergeRequestText.sourceBranch(policy: "oms", stage: "test") == "promobot/oms/test")
    }

    @Test(arguments: [
        ("1.5.0", "Promote oms to test: app 1.5.0, web 1.5.0"),
        ("1.5.0@sha256:" + String(repeating: "4", count: 64), "Promote oms to test: app 1.5.0@sha256:444444444444, web 1.5.0@sha256:444444444444"),
        ("@sha256:" + String(repeating: "5", count: 64), "Promote oms to test: app @sha256:555555555555, web @sha256:555555555555"),
    ])
    func title(version: String, expected: String) {
        let policy = F.policy()
        #expect(MergeRequestText.title(policy: policy, stage: policy.stages[1], candidate: F.tags(version)) == expected)
    }

    @Test func titleFollowsPolicyOrderNotAlphabet() {
        let stage = F.testStage()
        let policy = Policy(name: "shop", sourcePath: "p.yaml", images: ["r/zeta", "r/alpha"], stages: [stage])
        let title = MergeRequestText.title(policy: policy, stage: stage, candidate: ["r/alpha": "2", "r/zeta": "1"])
        #expect(title == "Promote shop to test: zeta 1, alpha 2")
    }

    @Test func commitMessageHasSubjectBodyAndTrailers() {
        let policy = F.policy()
        let changes = [F.app, F.web].flatMap { image in
            ["test/a.yaml", "test/b.yaml"].map { ImageChange(path: $0, line: 9, image: image, old: "1.4.2", new: "1.5.0") }
        }
        let message = MergeRequestText.commitMessage(policy: policy, stage: policy.stages[1], candidate: F.tags("1.5.0"),
                                                     changes: changes.reversed(), upstreamCommit: F.upstreamTip)
        let lines = message.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "Promote oms to test: app 1.5.0, web 1.5.0")
        #expect(lines[1] == "")
        #expect(lines.contains("registry.example.com/oms/app: 1.4.2 -> 1.5.0"))
        #expect(lines.contains("registry.example.com/oms/web: 1.4.2 -> 1.5.0"))
        #expect(lines[2...3] == ["registry.example.com/oms/app: 1.4.2 -> 1.5.0", "registry.example.com/oms/web: 1.4.2 -> 1.5.0"],
                "one line per change, in policy order, not one per file")
        // Trailers are the last paragraph.
        let paragraphs = message.trimmingCharacters(in: .newlines).components(separatedBy: "\n\n")
        #expect(paragraphs.last == "Promobot-Policy: oms\nPromobot-Stage: test\nPromobot-Upstream-Commit: \(F.upstreamTip)")
    }

    /// The change records an edit of two files per image would give for `plan`.
    static func edits(_ plan: StagePlan) -> [ImageChange] {
        (plan.candidate ?? [:]).ordered(by: plan.imageOrder).filter { plan.current[$0.image] != $0.version }.flatMap { image, version in
            ["deploy.yaml", "job.yaml"].map {
                ImageChange(path: $0, line: 3, image: image, old: plan.current[image]?.description ?? "", new: version.description)
            }
        }
    }

    @Test func tableShowsWhatTheEditChangedNotWhatWasHoped() {
        let input = F.input()
        let plan = Planner.plan(input)
        let onlyApp = Self.edits(plan).filter { $0.image == F.app }
        let text = MergeRequestText.description(plan: plan, input: input, head: F.head, changes: onlyApp)
        #expect(text.contains("| `registry.example.com/oms/app` | `1.4.2` | `1.5.0` |"))
        #expect(text.contains("| `registry.example.com/oms/web` | `1.4.2` | `1.5.0` (unchanged) |"), "web was not edited")
        #expect(text.components(separatedBy: "oms/app` |").count == 2, "one row per distinct change, not one per file")
    }

    @Test func descriptionCarriesEvidenceAndAMarkerThatRoundTrips() throws {
        let input = F.input()
        let plan = Planner.plan(input)
        let text = MergeRequestText.description(plan: plan, input: input, links: Self.links, head: F.head, changes: Self.edits(plan))
        #expect(text.contains("| `registry.example.com/oms/app` | `1.4.2` | `1.5.0` |"))
        #expect(text.contains("| `registry.example.com/oms/web` | `1.4.2` | `1.5.0` |"))
        #expect(text.contains("[`bbbbbbbb`](https://gitlab.example.com/group/oms-deploy/-/commit/\(F.upstreamTip))"))
        #expect(text.contains("[`policies/oms.yaml`](https://gitlab.example.com/group/policies/-/blob/main/oms.yaml)"))
        #expect(text.contains("In dev since: 2026-11-27T11:00:00Z (soak 30m)"))
        #expect(text.contains("`http https://dev.example/health` — HTTP 200 (checked 2026-11-27T12:00:00Z)"))
        #expect(text.contains("| soak | passed |"))
        let lastLine = try #require(text.split(separator: "\n").last)
        #expect(lastLine.hasPrefix("<!-- promobot:marker {"))
        #expect(lastLine.hasSuffix("} -->"))

        let marker = try #require(MergeRequestText.marker(in: text))
        #expect(marker == PromotionMarker(policy: "oms", stage: "test", candidate: F.tags("1.5.0"), base: F.targetTip,
                                          upstreamCommit: F.upstreamTip, head: F.head))
        #expect(marker == MergeRequestText.marker(plan: plan, input: input, head: F.head))
    }

    @Test func descriptionExplainsANewestSoakedPick() {
        let input = PlannerCandidateTests.input([("1.5.3", 5), ("1.5.1", 70)], pick: .newestSoaked)
        let plan = Planner.plan(input)
        let text = MergeRequestText.description(plan: plan, input: input, head: F.head, changes: Self.edits(plan))
        #expect(text.contains("Picked by `newest-soaked`: dev has since moved on to app 1.5.3, web 1.5.3"))
        #expect(text.contains("| `registry.example.com/oms/app` | `1.4.2` | `1.5.1` |"))
        #expect(MergeRequestText.marker(in: text)?.upstreamCommit == "commit-1-1.5.1")
        let plain = MergeRequestText.description(plan: Planner.plan(F.input()), input: F.input(), head: F.head, changes: Self.edits(Planner.plan(F.input())))
        #expect(!plain.contains("Picked by"))
    }

    @Test func descriptionWithoutLinksNamesThings() {
        let input = F.input()
        let text = MergeRequestText.description(plan: Planner.plan(input), input: input, head: F.head, changes: Self.edits(Planner.plan(input)))
        #expect(text.contains("- Upstream commit: `bbbbbbbb` on dev"))
        #expect(text.contains("- Policy: `policies/oms.yaml`"))
        #expect(!text.contains("](http"))
    }

    @Test func descriptionEscapesTableCells() {
        var input = F.input(health: [HealthResult(check: "prom a|b", passed: true, detail: "value\n0.1", checkedAt: F.now)])
        input.policy.sourcePath = "odd|path.yaml"
        let text = MergeRequestText.description(plan: Planner.plan(input), input: input, head: F.head, changes: Self.edits(Planner.plan(input)))
        #expect(text.contains("`prom a\\|b` — value 0.1"))
        #expect(text.contains("odd\\|path.yaml"))
    }

    static let marker = PromotionMarker(policy: "oms", stage: "test", candidate: F.tags("1.5.0"), base: F.targetTip,
                                        upstreamCommit: F.upstreamTip, head: F.head)

    static var editedDescriptions: [(String, String)] {
        let comment: String = MergeRequestText.markerComment(marker)
        let json = String(comment.dropFirst(MergeRequestText.markerPrefix.count).dropLast(4))
        let other = PromotionMarker(policy: "x", stage: "y", candidate: [:], base: "", upstreamCommit: "", head: "")
        return [
            ("edited text around it", "Someone rewrote this.\n\n" + comment + "\n\nAnd added a footer."),
            ("marker at the very start", comment),
            ("CRLF line endings", "a\r\n" + comment + "\r\n"),
            ("extra whitespace", "<!--   promobot:marker\n" + json + "\n-->"),
            ("last marker wins", MergeRequestText.markerComment(other) + "\n" + comment),
        ]
    }

    @Test(arguments: editedDescriptions)
    func markerIsFoundDespiteEdits(name: String, text: String) {
        #expect(MergeRequestText.marker(in: text) == Self.marker, "\(name)")
    }

    @Test(arguments: [
        "no marker here",
        "<!-- promobot:marker {\"policy\": \"oms\", \"stage\": -->",
        "<!-- promobot:marker {not json} -->",
        "<!-- promobot:marker {\"policy\":\"oms\"} -->",
        "<!-- promobot:marker -->",
        "",
    ])
    func corruptOrMissingMarkerIsNil(text: String) {
        #expect(MergeRequestText.marker(in: text) == nil)
    }

    @Test func markerValuesCannotEndTheComment() throws {
        let tricky = PromotionMarker(policy: "oms", stage: "test", candidate: ["a": "x --> <b>"], base: "b", upstreamCommit: "u", head: "h")
        let comment = MergeRequestText.markerComment(tricky)
        #expect(comment.components(separatedBy: "-->").count == 2)
        #expect(!comment.dropFirst(4).contains("<"))
        #expect(MergeRequestText.marker(in: "intro\n" + comment) == tricky)
    }

    @Test func comments() {
        let close = MergeRequestText.closeComment(reason: "test already runs app 1.5.0")
        #expect(close.hasPrefix("promobot closed this merge request: test already runs app 1.5.0."))
        #expect(close.contains(MergeRequestText.closeTag))
        let commit = String(repeating: "d", count: 40)
        let foreign = MergeRequestText.foreignCommitComment(branch: "promobot/oms/test", iid: 12, commit: commit)
        #expect(foreign.contains("`promobot/oms/test`"))
        #expect(foreign.contains("!12"))
        #expect(foreign.contains("dddddddd"))
        #expect(MergeRequestText.isForeignCommitComment(foreign, commit: commit))
        #expect(!MergeRequestText.isForeignCommitComment(foreign, commit: String(repeating: "e", count: 40)),
                "a later push by a person is a new commit and is announced again")
        #expect(!MergeRequestText.isForeignCommitComment(close, commit: commit))
    }

    @Test func trailersMakeACommitTheBots() {
        let message = "Promote oms to test: app 1.5.0\n\nPromobot-Policy: oms\nPromobot-Stage: test\nPromobot-Upstream-Commit: abc\n"
        #expect(MergeRequestText.hasTrailers(message, policy: "oms", stage: "test"))
        #expect(!MergeRequestText.hasTrailers(message, policy: "oms", stage: "prod"))
        #expect(!MergeRequestText.hasTrailers("fix tag by hand\n\nPromobot-Policy: omsx\nPromobot-Stage: test", policy: "oms", stage: "test"))
    }
}
