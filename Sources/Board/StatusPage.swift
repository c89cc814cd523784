import Foundation
import Mustache

/// What the status page shows: the board, and how often the browser reloads it.
public struct StatusPageModel: Sendable {
    /// The board of the last cycle.
    public var board: StatusBoard
    /// Seconds between reloads (`<meta http-equiv="refresh">`); nil for a page that stays as it is (a file).
    public var refreshSeconds: Int?

    /// Memberwise. `refreshSeconds` below 1 counts as 1.
    public init(board: StatusBoard, refreshSeconds: Int? = nil) {
        self.board = board
        self.refreshSeconds = refreshSeconds.map { max(1, $0) }
    }
}

/// The status board as one self-contained HTML page: what `promobot serve` answers and what
/// `promobot status --format html` writes.
///
/// Rendered through a Mustache template whose every value is HTML-escaped (`{{value}}`, never the raw
/// `{{{value}}}`), so names, reasons and commit subjects are shown as text. The page is readable without
/// JavaScript and loads nothing: inline CSS, no script, no image, no external resource (its
/// Content-Security-Policy forbids them); its only links are MR web URLs, and only when they are
/// http(s). It holds no secrets (the board has none) and offers no action. Responsive: stages stack on a
/// phone and sit side by side on a wide window. Pure and thread-safe.
///
/// Hooks for tests and scrapers: `data-policy="oms"` on a policy's section, `data-stage="oms/prod"` on a
/// stage's card, `class="blocked-reason"` on the reason a stage waits, `<time class="until">` for until
/// when, `<a class="mr">` for MR links, `class="gate not-checked"` / `"gate failed"` with `data-gate`,
/// `class="held"`, `class="rollback"`, `class="change promotion"` and `data-emergency-stop`.
public enum StatusPage {
    /// Renders the page.
    public static func render(_ model: StatusPageModel) -> String {
        template.render(PageView(model))
    }

    /// Parsed once; the template is a constant that the tests render, so it always parses.
    private static let template: MustacheTemplate = {
        do {
            return try MustacheTemplate(string: StatusPage.templateText)
        } catch {
            preconditionFailure("the status page template does not parse: \(error)")
        }
    }()
}
