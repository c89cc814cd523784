import Foundation
import Manifests
import Planning
import Testing
@testable import Board

/// The board's cells and its text and Markdown forms.
@Suite struct StatusBoardTests {
    /// The two images of the oms policy, and a fixed clock.
    enum F {
        static let app = "registry.example.com/oms/app"
        static let web = "registry.example.com/oms/web"
        static let now = ISO8601DateFormatter().date(from: "2026-11-27T12:00:00Z")!
        static func tags(_ version: String) -> ImageVersions { [app: ImageVersion(version), web: ImageVersion(version)] }
    }

    static let oms = StatusRow(
        policy: "oms", images: [F.app, F.web],
        stages: [
            StatusStage(name: "dev", tags: F.tags("1.5.0")),
            StatusStage(name: "test", upstream: "dev", tags: F.tags("1.4.2")),
            StatusStage(name: "prod", upstream: "test", tags: F.tags("1.4.2")),
        ],
        mergeRequests: [StatusMergeRequest(stage: "test", iid: 12, webURL: "https://gitlab.example.com/g/d/-/merge_requests/12",
                                           decision: .waiting(iid: 12, gate: .approvals, reason: "1 of 2 approvals", until: nil))])

    /// A policy with a stage the other lacks, mixed versions and hostile text.
    static let billing = StatusRow(
        policy: "billing<script>", images: ["r/api", "r/worker"],
        stages: [
            StatusStage(name: "dev", tags: ["r/api": "2.0.0", "r/worker": "2.0.0"]),
            StatusStage(name: "staging", upstream: "dev", tags: ["r/api": "2.0.0", "r/worker": "1.9.0"]),
        ],
        mergeRequests: [StatusMergeRequest(stage: "staging", iid: 7, webURL: "javascript:alert(1)", state: "merging",
                                           summary: "merge \"quoted\" & <b>bold</b>")])

    @Test func heldVersionsShowInTheStageCell() throws {
        let rollback = HistoryEntry(commit: "b2c3d4e5", time: F.now, tags: F.tags("1.4.2"), author: "alice", subject: "back")
        var plan = StagePlan(policy: "oms", stage: "prod", upstream: "test", current: F.tags("1.4.2"), candidate: F.tags("1.5.0"),
                             soakedSince: nil, gates: [], decision: .blocked(gate: .hold, reason: "held: …", until: nil))
        plan.held = [Hold(image: F.app, version: "1.5.0", rollback: rollback), Hold(image: F.web, version: "1.5.0", rollback: rollback)]
        let row = StatusRow(policy: "oms", images: [F.app, F.web], stages: [
            StatusStage(name: "test", tags: F.tags("1.5.0")),
            StatusStage(name: "prod", upstream: "test", tags: F.tags("1.4.2"), plan: plan),
        ])
        let prod = try #require(StatusBoard.cellLines(row, stage: "prod"))
        #expect(prod.map(\.text).contains("held: app 1.5.0"))
        #expect(prod.first { $0.text == "held: web 1.5.0" }?.drift == true)
        #expect(prod.first { $0.text == "blocked (hold)" }?.drift == true)
    }

    @Test func columnsAreStagesInFirstSeenOrder() {
        #expect(StatusBoard(rows: [Self.oms, Self.billing]).stageColumns == ["dev", "test", "prod", "staging"])
    }

    @Test func cellsShowVersionsDriftAndMergeRequests() throws {
        let test = try #require(StatusBoard.cellLines(Self.oms, stage: "test"))
        #expect(test.map(\.text) == ["app 1.4.2 ≠ dev", "web 1.4.2 ≠ dev", "!12 waiting (approvals)"])
        #expect(test.map(\.drift) == [true, true, false])
        let prod = try #require(StatusBoard.cellLines(Self.oms, stage: "prod"))
        #expect(prod.map(\.text) == ["app 1.4.2", "web 1.4.2"])
        #expect(prod.allSatisfy { !$0.drift })
        let staging = try #require(StatusBoard.cellLines(Self.billing, stage: "staging"))
        #expect(staging.map(\.text).contains("drift: mixed versions"))
        #expect(staging.map(\.text).contains("worker 1.9.0 ≠ dev"))
        #expect(StatusBoard.cellLines(Self.billing, stage: "prod") == nil)
    }

    /// A `pin: digest` stage running the tag its upstream runs, pinned, is not drift; another pin of it is.
    @Test func aPinnedStageRunningTheUpstreamsTagIsNotDrift() throws {
        let pinned = "1.5.0@sha256:" + String(repeating: "a", count: 64)
        let row = StatusRow(policy: "oms", images: [F.app, F.web], stages: [
            StatusStage(name: "test", tags: F.tags("1.5.0")),
            StatusStage(name: "prod", upstream: "test", tags: F.tags(pinned)),
        ])
        let prod = try #require(StatusBoard.cellLines(row, stage: "prod"))
        #expect(prod.map(\.text) == ["app 1.5.0@sha256:aaaaaaaaaaaa", "web 1.5.0@sha256:aaaaaaaaaaaa"])
        #expect(prod.allSatisfy { !$0.drift })
        let other = StatusRow(policy: "oms", images: [F.app, F.web], stages: [
            StatusStage(name: "test", tags: F.tags("1.5.0@sha256:" + String(repeating: "b", count: 64))),
            StatusStage(name: "prod", upstream: "test", tags: F.tags(pinned)),
        ])
        #expect(try #require(StatusBoard.cellLines(other, stage: "prod")).allSatisfy(\.drift))
    }

    @Test func notCheckedReasonsLoseThePlannersOwnWords() {
        #expect(StatusBoard.notCheckedReason(GateResult(gate: .imageExists, passed: true, reason: "not checked (no registry configured for registry.example.com)",
                                                        checked: false)) == "no registry configured for registry.example.com")
        #expect(StatusBoard.notCheckedReason(GateResult(gate: .health, passed: true, reason: "not checked: nothing to promote yet", checked: false))
                == "nothing to promote yet")
    }

    @Test func unreadableStageShowsItsError() throws {
        let row = StatusRow(policy: "p", images: ["a"], stages: [StatusStage(name: "dev", tags: [:], error: "clone failed")])
        #expect(try #require(StatusBoard.cellLines(row, stage: "dev")).map(\.text) == ["error: clone failed"])
    }

    @Test func text() {
        let text = StatusBoard(rows: [Self.oms, Self.billing], cycleTime: F.now).render(.text)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "promobot status at 2026-11-27T12:00:00Z")
        let header = lines[1]
        #expect(header.hasPrefix("policy"))
        for column in ["dev", "test", "prod", "staging"] { #expect(header.contains(column)) }
        // Columns line up: every table line has its separators at the same offsets as the header.
        let bars = header.indices.filter { header[$0] == "|" }.map { header.distance(from: header.startIndex, to: $0) }
        let tableLines = lines.dropFirst(3).prefix { !$0.isEmpty && !$0.hasPrefix("Open") }
        #expect(!tableLines.isEmpty)
        for line in tableLines {
            let positions = line.indices.filter { line[$0] == "|" }.map { line.distance(from: line.startIndex, to: $0) }
            #expect(Array(positions.prefix(bars.count)) == Array(bars.prefix(positions.count)), "\(line)")
        }
        #expect(text.contains("* app 1.4.2 ≠ dev"))
        #expect(text.contains("oms -> test !12 [waiting (approvals)]"))
        #expect(text.contains("https://gitlab.example.com/g/d/-/merge_requests/12"))
    }

    @Test func markdown() {
        let markdown = StatusBoard(rows: [Self.oms, Self.billing]).render(.markdown)
        let lines = markdown.split(separator: "\n").map(String.init)
        #expect(lines[0] == "| Policy | dev | test | prod | staging |")
        #expect(lines[1] == "|---|---|---|---|---|")
        let omsRow = lines[2]
        #expect(omsRow.hasPrefix("| **oms** | app 1.5.0<br>web 1.5.0 | **app 1.4.2 ≠ dev**<br>**web 1.4.2 ≠ dev**<br>[!12 waiting (approvals)](https://gitlab.example.com/g/d/-/merge_requests/12) |"))
        #expect(omsRow.hasSuffix("| — |"))
        #expect(lines[3].hasPrefix("| **billing\\<script\\>** |"))
        // Every table row has the same number of cells.
        for row in lines[0...3] { #expect(row.replacingOccurrences(of: "\\|", with: "").filter { $0 == "|" }.count == 6, "\(row)") }
        // A non-web URL is never a link.
        #expect(!markdown.contains("](javascript:"))
        #expect(markdown.contains("[!12](https://gitlab.example.com/g/d/-/merge_requests/12)"))
    }

    @Test func emptyBoard() {
        #expect(StatusBoard(rows: []).render(.text).contains("(no policies)"))
        #expect(StatusBoard(rows: []).render(.html).contains("(no policies)"))
    }

    @Test func mergeRequestStateFromDecision() {
        let url = "https://x/1"
        #expect(StatusMergeRequest(stage: "t", iid: 1, webURL: url, decision: .mergeMR(iid: 1, sha: "s", autoMerge: true)).state == "auto-merge")
        #expect(StatusMergeRequest(stage: "t", iid: 1, webURL: url, decision: .leaveAlone(iid: 1, reason: "r")).state == "left alone")
        let waiting = StatusMergeRequest(stage: "t", iid: 1, webURL: url, decision: .waiting(iid: 1, gate: .window, reason: "r", until: nil))
        #expect(waiting.state == "waiting (window)")
        #expect(waiting.summary == "MR !1 waiting (window): r")
    }

    // MARK: - The facts of a cycle, in text and Markdown

    @Test func textSaysWhyEachStageWaitsAndUntilWhen() {
        var board = BoardFixtures.board
        board.emergencyStop = "stop file policies/STOP exists"
        let text = board.render(.text)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "promobot status at 2026-11-27T12:00:00Z")
        #expect(lines[1] == "Emergency stop: stop file policies/STOP exists; promobot opens, updates and merges nothing until it is lifted")
        #expect(lines[2] == "Errors in the last cycle:")
        #expect(lines[3] == "  billing/prod: clone failed: HTTP 500")
        // The soak reason already says until when: not twice.
        #expect(lines.contains("  oms/prod: blocked (soak): \(BoardFixtures.soakReason)"))
        #expect(lines.contains("    candidate: app 1.4.2, web 1.4.2"))
        #expect(lines.contains("    not checked: health (nothing to promote yet)"))
        #expect(lines.contains("    held: app 1.4.3, rolled back in b2c3d4e5 by alice via promobot rollback, 10:02Z"))
        #expect(lines.contains("  oms/test: MR !12 waiting (approvals): 1 of 2 approvals"))
        #expect(lines.contains { $0.hasPrefix("  billing/staging: blocked (rollback): rollback !7 for staging is open") })
        #expect(lines.contains { $0.hasPrefix("    rollback requested by bob: errors spiked <script>") })
        #expect(lines.contains("  billing/prod: error: clone failed: HTTP 500"))
        #expect(lines.contains("  oms -> test !12 [waiting (approvals), 1 of 2 approvals] MR !12 waiting (approvals): 1 of 2 approvals \(BoardFixtures.mrURL)"))
        // Newest first across the board, with times on the cycle's day short and others dated.
        let changes = Array(lines.drop { $0 != "Recent changes:" }.dropFirst().prefix(3))
        #expect(changes == [
            "  11:40Z oms/test promotion by promobot: Promote oms to test: app 1.4.1 -> 1.4.2 (a1b2c3d4)",
            "  10:02Z oms/prod rollback by alice via promobot rollback: app 1.4.3 leaks memory (b2c3d4e5)",
            "  2026-11-26 09:00Z oms/prod promotion by promobot: Promote oms to prod: app 1.4.1 -> 1.4.3 (c3d4e5f6)",
        ])
    }

    @Test func untilIsAddedWhenTheReasonDoesNotSayIt() throws {
        let until = BoardFixtures.date("2026-11-28T08:00:00Z")
        let plan = StagePlan(policy: "p", stage: "prod", upstream: "dev", current: ["a": "1"], candidate: ["a": "2"], soakedSince: nil,
                             gates: [], decision: .blocked(gate: .freeze, reason: "prod is frozen", until: until))
        let board = StatusBoard(rows: [StatusRow(policy: "p", images: ["a"], stages: [
            StatusStage(name: "dev", tags: ["a": "2"]), StatusStage(name: "prod", upstream: "dev", tags: ["a": "1"], plan: plan),
        ])], cycleTime: BoardFixtures.now)
        let summary = try #require(board.stageSummary(board.rows[0], board.rows[0].stages[1]))
        #expect(summary.headline == "blocked (freeze): prod is frozen until 2026-11-28 08:00Z")
        #expect(board.render(.text).contains("  p/prod: blocked (freeze): prod is frozen until 2026-11-28 08:00Z"))
    }

    @Test func textEscapesControlCharactersFromGitAndGitLab() {
        var board = BoardFixtures.board
        board.errors = [PolicyFailure(policy: "oms", message: "boom\n  oms/prod: up to date\u{1B}[31m")]
        let text = board.render(.text)
        #expect(text.contains("  oms: boom\\n  oms/prod: up to date\\e[31m"))
        #expect(!text.contains("\u{1B}"))
        #expect(!text.split(separator: "\n").contains("  oms/prod: up to date"))
    }

    @Test func markdownListsStagesMergeRequestsAndChanges() {
        let markdown = BoardFixtures.board.render(.markdown)
        #expect(markdown.contains("- **oms/prod**: blocked (soak): app 1.4.2 in test for 12m of 30m, 18m left (until 12:18Z)"))
        #expect(markdown.contains("  - not checked: health (nothing to promote yet)"))
        #expect(markdown.contains("- oms → test [!12](\(BoardFixtures.mrURL)) (waiting (approvals), 1 of 2 approvals)"))
        #expect(markdown.contains("errors spiked \\<script\\>alert(1)\\</script\\> \\& \"quotes\""))
        #expect(!markdown.contains("<script>") && !markdown.contains("</script>"))
        #expect(!markdown.contains("](javascript:"))
        #expect(markdown.contains("- billing → staging !7 (rollback, waiting (pipeline))"))
        #expect(markdown.contains("- 10:02Z oms/prod rollback by alice via promobot rollback: app 1.4.3 leaks memory (`b2c3d4e5`)"))
        #expect(markdown.contains("**Errors in the last cycle:**"))
    }
}
