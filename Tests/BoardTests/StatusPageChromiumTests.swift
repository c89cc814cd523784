import Foundation
import Testing
import TestSupport
@testable import Board

/// The status page in a real browser (headless Chromium, which `scripts/test` installs): the DOM it builds
/// from the page, and screenshots on a phone-sized and a wide window. Slow (a browser start per run), so
/// one test does it all. Set `PROMOBOT_KEEP_SCREENSHOTS=1` to keep the folder and look at the pictures.
@Suite struct StatusPageChromiumTests {
    @Test func browserShowsTheBlockedStageTheMRAndTheHold() async throws {
        var board = BoardFixtures.board
        board.emergencyStop = "stop file policies/STOP exists"
        let folder = try TestPaths.temporaryFolder("status-page")
        let keep = ProcessInfo.processInfo.environment["PROMOBOT_KEEP_SCREENSHOTS"] == "1"
        defer { if !keep { try? FileManager.default.removeItem(at: folder) } }
        let page = folder.appendingPathComponent("status.html")
        try Data(StatusPage.render(StatusPageModel(board: board, refreshSeconds: 10)).utf8).write(to: page)

        let dom = try await Chromium.dumpDOM(url: page)
        #expect(dom.contains("<meta http-equiv=\"refresh\" content=\"10\">"), "\(dom)")
        #expect(dom.contains("<article class=\"stage state-blocked\" data-stage=\"oms/prod\">"))
        #expect(dom.contains("<p class=\"blocked-reason\">\(BoardFixtures.soakReason)</p>"))
        #expect(dom.contains("<time class=\"until\" datetime=\"2026-11-27T12:18:00Z\">12:18Z</time>"))
        #expect(dom.contains("<a class=\"mr\" href=\"\(BoardFixtures.mrURL)\" rel=\"noreferrer noopener\">!12</a>"))
        #expect(dom.contains("<span class=\"approvals\">1 of 2 approvals</span>"))
        #expect(dom.contains("<p class=\"held\"><span class=\"label\">held</span> app 1.4.3"))
        #expect(dom.contains("<span class=\"gate-status\">not checked</span>"))
        #expect(dom.contains("data-emergency-stop=\"\""))
        // The rollback reason's markup stayed text: the browser made no element of it.
        #expect(dom.contains("errors spiked &lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!dom.contains("<script"))
        #expect(!dom.contains("href=\"javascript:"))

        for (name, width, height) in [("phone", 390, 1800), ("wide", 1280, 1000)] {
            let picture = folder.appendingPathComponent("status-\(name).png")
            try await Chromium.screenshot(url: page, to: picture, width: width, height: height)
            let bytes = try Data(contentsOf: picture)
            #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(picture.path) is not a PNG")
            if keep { print("status page screenshot (\(width)x\(height)): \(picture.path)") }
        }
    }
}
