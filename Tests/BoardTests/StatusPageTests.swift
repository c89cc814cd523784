import Foundation
import Manifests
import Planning
import Testing
@testable import Board

/// The HTML page: its hooks, its escaping, and that it loads and runs nothing.
@Suite struct StatusPageTests {
    typealias F = BoardFixtures

    static let page = StatusPage.render(StatusPageModel(board: F.board, refreshSeconds: 10))

    /// The markup of the element with `data-stage="key"`, up to its closing tag.
    static func stageCard(_ key: String, in html: String = page) throws -> Substring {
        let start = try #require(html.range(of: "data-stage=\"\(key)\""))
        let end = try #require(html.range(of: "</article>", range: start.upperBound..<html.endIndex))
        return html[start.lowerBound..<end.upperBound]
    }

    @Test func pageIsSelfContainedAndRefreshes() {
        let html = Self.page
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
        #expect(html.contains("<meta http-equiv=\"refresh\" content=\"10\">"))
        #expect(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"))
        #expect(html.contains("Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'"))
        #expect(html.contains(StatusPage.css))
        for forbidden in ["<script", "<link", "src=", "<form", "<img", "<iframe", "javascript:", "@import", "url("] {
            #expect(!html.contains(forbidden), "\(forbidden)")
        }
        #expect(html.contains("Last cycle <time class=\"cycle\" datetime=\"2026-11-27T12:00:00Z\">12:00Z</time> · reloads every 10s"))
        #expect(html.hasSuffix("</html>\n"))
    }

    @Test func withoutRefreshThePageStaysAsItIs() {
        let html = F.board.render(.html)
        #expect(!html.contains("http-equiv=\"refresh\""))
        #expect(!html.contains("reloads every"))
        #expect(html == StatusPage.render(StatusPageModel(board: F.board)))
    }

    @Test func templateNeverWritesAValueUnescaped() {
        #expect(!StatusPage.templateText.contains("{{{"))
        #expect(!StatusPage.templateText.contains("{{&"))
        #expect(!StatusPage.css.contains("{{"))
    }

    @Test func blockedStageSaysWhyAndUntilWhen() throws {
        let prod = try Self.stageCard("oms/prod")
        #expect(prod.hasPrefix("data-stage=\"oms/prod\""))
        #expect(Self.page.contains("<article class=\"stage state-blocked\" data-stage=\"oms/prod\">"))
        #expect(prod.contains("<span class=\"badge\">blocked (soak)</span>"))
        #expect(prod.contains("<p class=\"blocked-reason\">\(F.soakReason)</p>"))
        #expect(prod.contains("until <time class=\"until\" datetime=\"2026-11-27T12:18:00Z\">12:18Z</time>"))
        #expect(prod.contains("<span class=\"label\">candidate</span> app 1.4.2, web 1.4.2"))
        #expect(prod.contains("<li class=\"drift\">app 1.4.1 ≠ test</li>"))
    }

    @Test func notCheckedGateIsNeverShownAsFailed() throws {
        let prod = try Self.stageCard("oms/prod")
        #expect(prod.contains("<p class=\"gate not-checked\" data-gate=\"health\"><span class=\"gate-name\">health</span> <span class=\"gate-status\">not checked</span>: nothing to promote yet</p>"))
        #expect(!prod.contains("class=\"gate failed\" data-gate=\"health\""))
        // The soak gate blocks: its reason is said once, as the blocked reason, not again as a failed gate.
        #expect(!prod.contains("data-gate=\"soak\""))
        #expect(prod.components(separatedBy: F.soakReason).count == 2)
        #expect(prod.contains("<summary>1 gate passed</summary>"))
    }

    @Test func mergeRequestLinksWithApprovals() throws {
        let test = try Self.stageCard("oms/test")
        #expect(Self.page.contains("<article class=\"stage state-waiting\" data-stage=\"oms/test\">"))
        #expect(test.contains("<a class=\"mr\" href=\"\(F.mrURL)\" rel=\"noreferrer noopener\">!12</a> waiting (approvals) · <span class=\"approvals\">1 of 2 approvals</span>"))
        #expect(test.contains("<p class=\"blocked-reason\">1 of 2 approvals</p>"))
        #expect(!test.contains("class=\"until\""))
    }

    @Test func holdsRollbacksAndRecentChanges() throws {
        let prod = try Self.stageCard("oms/prod")
        #expect(prod.contains("<p class=\"held\"><span class=\"label\">held</span> app 1.4.3: rolled back in b2c3d4e5 by alice via promobot rollback, 10:02Z</p>"))
        #expect(prod.contains("<li class=\"change rollback\"><time datetime=\"2026-11-27T10:02:00Z\">10:02Z</time> <span class=\"kind\">rollback</span> by alice via promobot rollback: app 1.4.3 leaks memory <code>b2c3d4e5</code></li>"))
        #expect(prod.contains("<li class=\"change promotion\"><time datetime=\"2026-11-26T09:00:00Z\">2026-11-26 09:00Z</time>"))
        let staging = try Self.stageCard("billing/staging")
        #expect(staging.contains("<p class=\"mr-line rollback-mr\"><span class=\"mr\">!7</span> rollback, waiting (pipeline)</p>"))
        #expect(staging.contains("<p class=\"rollback\">rollback requested by bob: errors spiked &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot; — MR !7 waiting (pipeline): pipeline running on cccccccc</p>"))
    }

    @Test func errorsAndEmergencyStopInTheHeader() throws {
        #expect(Self.page.contains("<section class=\"errors\" role=\"alert\">\n<h2>Errors in the last cycle</h2>\n<ul>\n<li>billing/prod: clone failed: HTTP 500</li>"))
        #expect(Self.page.contains("<article class=\"stage state-error\" data-stage=\"billing/prod\">"))
        #expect(!Self.page.contains("data-emergency-stop"))
        var board = F.board
        board.emergencyStop = "stop file <policies>/STOP exists"
        let stopped = StatusPage.render(StatusPageModel(board: board))
        #expect(stopped.contains("<p class=\"stop\" data-emergency-stop role=\"alert\"><strong>Emergency stop:</strong> stop file &lt;policies&gt;/STOP exists."))
    }

    @Test func firstStageIsWrittenByCI() throws {
        let dev = try Self.stageCard("oms/dev")
        #expect(Self.page.contains("<article class=\"stage state-first\" data-stage=\"oms/dev\">"))
        #expect(dev.contains("<span class=\"badge\">written by CI</span>"))
        #expect(Self.page.contains("<article class=\"stage state-error\" data-stage=\"billing/prod\">\n<h3><span class=\"stage-name\">prod</span> <span class=\"from\">from staging</span></h3>\n<p class=\"state\"><span class=\"badge\">error</span></p>"))
        // Nothing of another stage leaks into it through the template's context.
        for other in ["blocked-reason", "class=\"mr", "candidate", "held", "gate", "from "] { #expect(!dev.contains(other), "\(other)") }
    }

    /// Names and texts that would be markup: a policy, a stage, a reason, an author, a URL that breaks out
    /// of its attribute. Each reaches the page as text only.
    @Test(arguments: [
        "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "' onmouseover='alert(1)", "a & b </article></main>",
    ])
    func hostileTextIsEscapedEverywhere(text: String) throws {
        let plan = StagePlan(policy: text, stage: text, upstream: "dev", current: ["r/\(text)": "1"], candidate: ["r/\(text)": "2"],
                             soakedSince: nil, gates: [GateResult(gate: .health, passed: false, reason: text)],
                             decision: .blocked(gate: .health, reason: text, until: F.soakEnd))
        var stage = StatusStage(name: text, upstream: "dev", tags: ["r/\(text)": "1"], error: text, plan: plan,
                                recentChanges: [HistoryEntry(commit: "abc", time: F.now, tags: [:], author: text, subject: text)])
        stage.plan?.held = [Hold(image: "r/\(text)", version: ImageVersion(text), rollback: stage.recentChanges[0])]
        let row = StatusRow(policy: text, images: ["r/\(text)"], stages: [StatusStage(name: "dev", tags: ["r/\(text)": "2"]), stage],
                            mergeRequests: [StatusMergeRequest(stage: text, iid: 3, webURL: "https://gitlab.example.com/\(text)", state: text, summary: text)])
        let board = StatusBoard(rows: [row], cycleTime: F.now, emergencyStop: text, errors: [PolicyFailure(policy: text, message: text)])
        let html = StatusPage.render(StatusPageModel(board: board, refreshSeconds: 5))
        let escaped = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
        // Strip every escaped occurrence: what is left must not hold any piece of the raw text's markup.
        let rest = html.replacingOccurrences(of: escaped, with: "")
        for piece in ["<script", "<img", "onerror", "onmouseover", "a & b"] { #expect(!rest.contains(piece), "\(piece)") }
        #expect(rest.components(separatedBy: "</article>").count == 3)   // dev's card and the hostile stage's
        #expect(rest.components(separatedBy: "</main>").count == 2)
        #expect(html.contains("data-stage=\"\(escaped)/\(escaped)\""))
        #expect(html.contains("<p class=\"blocked-reason\">\(escaped)</p>"))
        #expect(html.contains("href=\"https://gitlab.example.com/\(escaped)\""))
    }

    @Test(arguments: ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<b>x</b>", "//evil.example.com/x", "ftp://x/y"])
    func onlyWebURLsBecomeLinks(url: String) {
        let row = StatusRow(policy: "p", images: ["a"], stages: [StatusStage(name: "dev", tags: ["a": "1"])],
                            mergeRequests: [StatusMergeRequest(stage: "dev", iid: 9, webURL: url, state: "open", summary: "s")])
        let html = StatusPage.render(StatusPageModel(board: StatusBoard(rows: [row])))
        #expect(!html.contains("href="))
        #expect(html.contains("<span class=\"mr\">!9</span>"))
    }
}
