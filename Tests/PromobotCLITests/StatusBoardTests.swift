import Foundation
import Planning
import Manifests
import Testing
@testable import PromobotCLI

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
        let row = StatusRow(policy: "oms", images: [F.app, F.web], stages: [
            StatusStage(name: "test", tags: F.tags("1.5.0")),
            StatusStage(name: "prod", upstream: "test", tags: F.tags("1.4.2"), held: ["app 1.5.0", "web 1.5.0"]),
        ])
        let prod = try #require(StatusBoard.cellLines(row, stage: "prod"))
        #expect(prod.map(\.text).contains("held: app 1.5.0"))
        #expect(prod.first { $0.text == "held: web 1.5.0" }?.drift == true)
    }

    @Test func columnsAreStagesInFirstSeenOrder() {
        #expect(StatusBoard.stageColumns([Self.oms, Self.billing]) == ["dev", "test", "prod", "staging"])
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

    @Test func unreadableStageShowsItsError() throws {
        let row = StatusRow(policy: "p", images: ["a"], stages: [StatusStage(name: "dev", tags: [:], error: "clone failed")])
        #expect(try #require(StatusBoard.cellLines(row, stage: "dev")).map(\.text) == ["error: clone failed"])
    }

    @Test func text() {
        let text = StatusBoard.render([Self.oms, Self.billing], format: .text, generatedAt: F.now)
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
        let markdown = StatusBoard.render([Self.oms, Self.billing], format: .markdown)
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

    @Test func htmlIsSelfContainedAndEscaped() {
        let html = StatusBoard.render([Self.oms, Self.billing], format: .html, generatedAt: F.now)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<style>"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("<link"))
        #expect(!html.contains("src="))
        #expect(html.contains("billing&lt;script&gt;"))
        #expect(html.contains("merge &quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;"))
        #expect(!html.contains("<b>bold"))
        #expect(!html.contains("href=\"javascript:"))
        #expect(html.contains("<a href=\"https://gitlab.example.com/g/d/-/merge_requests/12\">!12 waiting (approvals)</a>"))
        #expect(html.contains("<span class=\"line drift\">app 1.4.2 ≠ dev</span>"))
        #expect(html.contains("<td class=\"missing\">—</td>"))
        #expect(html.contains("<time>2026-11-27T12:00:00Z</time>"))
        #expect(html.hasSuffix("</html>\n"))
    }

    @Test(arguments: [
        ("a<b", "a&lt;b"), ("\"x\"", "&quot;x&quot;"), ("it's", "it&#39;s"), ("&amp;", "&amp;amp;"), ("plain", "plain"),
    ])
    func escapeHTML(raw: String, escaped: String) {
        #expect(StatusBoard.escapeHTML(raw) == escaped)
    }

    @Test func emptyBoard() {
        #expect(StatusBoard.render([], format: .text).contains("(no policies)"))
        #expect(StatusBoard.render([], format: .html).contains("<table>"))
    }

    @Test func mergeRequestStateFromDecision() {
        let url = "https://x/1"
        #expect(StatusMergeRequest(stage: "t", iid: 1, webURL: url, decision: .mergeMR(iid: 1, sha: "s", autoMerge: true)).state == "auto-merge")
        #expect(StatusMergeRequest(stage: "t", iid: 1, webURL: url, decision: .leaveAlone(iid: 1, reason: "r")).state == "left alone")
        let waiting = StatusMergeRequest(stage: "t", iid: 1, webURL: url, decision: .waiting(iid: 1, gate: .window, reason: "r", until: nil))
        #expect(waiting.state == "waiting (window)")
        #expect(waiting.summary == "MR !1 waiting (window): r")
    }
}
