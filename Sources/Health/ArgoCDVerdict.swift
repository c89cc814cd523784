import Foundation
import HTTP
import Manifests
import Policies

/// Reads an Argo CD application and decides whether the upstream really runs the candidate, healthily.
///
/// Pure, so the rules are table-tested: Healthy + Synced, every candidate image among
/// `status.summary.images`, and the last operation finished (Succeeded) at least `settle` ago —
/// trusting health right after a sync is how other tools promote a broken release.
///
/// Only Argo CD's own verdict on the running candidate is a confirmed failure: health `Degraded` or
/// `Missing` is `failed` once the app is `Synced`, runs every candidate image and has settled. Everything else that is not a pass is `unknown`, because it says nothing
/// bad about the running app, only that it cannot be judged yet: an error answer or an unreadable
/// document, health `Progressing`/`Suspended`/`Unknown`, not `Synced`, a sync still running or one
/// that failed (the app may still run the previous version fine), the candidate not rolled out yet,
/// or `settle` not elapsed. Promotions treat `unknown` as not passed (fail-closed); automatic
/// rollbacks act only on `failed`, so none of these ever rolls a stage back.
enum ArgoCDVerdict {
    static func evaluate(response: HTTPResponse, application: String, candidate: [ImageReference], settle: PolicyDuration?, now: Date) -> (HealthState, String) {
        guard response.status == 200 else {
            let reason = (try? JSONDecoder().decode(ArgoError.self, from: response.body))?.message
            return (.unknown, "Argo CD answered \(response.status) for application '\(application)'" + (reason.map { ": \($0)" } ?? ""))
        }
        guard let app = try? JSONDecoder().decode(ArgoApplication.self, from: response.body) else {
            return (.unknown, "Argo CD returned an application document promobot cannot read")
        }
        let health = app.status?.health?.status ?? "Unknown"
        let sync = app.status?.sync?.status ?? "Unknown"
        let running = app.status?.summary?.images ?? []
        let missing = candidate.filter { wanted in !running.contains { ImageMatch.same(wanted, $0) } }
        guard health == "Healthy" else {
            // Bad health is a verdict on the candidate only once Argo CD has rolled it out and it settled;
            // before that it may be the previous version, or a rollout still in progress.
            let rolledOut = sync == "Synced" && missing.isEmpty && settled(app, settle: settle, now: now)
            let state: HealthState = ["Degraded", "Missing"].contains(health) && rolledOut ? .failed : .unknown
            return (state, "health is \(health)" + (app.status?.health?.message.map { " (\($0))" } ?? ""))
        }
        guard sync == "Synced" else { return (.unknown, "sync is \(sync)") }
        if let operation = app.status?.operationState, let phase = operation.phase, phase != "Succeeded" {
            return (.unknown, "last operation is \(phase)")
        }
        guard missing.isEmpty else {
            let shown = running.isEmpty ? "none" : running.joined(separator: ", ")
            return (.unknown, "not running \(missing.map(\.description).joined(separator: ", ")) (runs \(shown))")
        }
        if let settle {
            guard let finishedText = app.status?.operationState?.finishedAt, let finished = ArgoDate.parse(finishedText) else {
                return (.unknown, "no finished sync operation to measure settle \(settle) from")
            }
            let elapsed = now.timeIntervalSince(finished)
            if elapsed < settle.timeInterval {
                let left = PolicyDuration(seconds: Int((settle.timeInterval - elapsed).rounded(.up)))
                return (.unknown, "synced \(PolicyDuration(seconds: max(0, Int(elapsed)))) ago, settle is \(settle) (\(left) left)")
            }
        }
        return (.passed, "Healthy, Synced, running \(candidate.count) candidate image(s)")
    }

    /// Whether the last sync finished at least `settle` ago (true without a `settle`).
    private static func settled(_ app: ArgoApplication, settle: PolicyDuration?, now: Date) -> Bool {
        guard let settle else { return true }
        guard let text = app.status?.operationState?.finishedAt, let finished = ArgoDate.parse(text) else { return false }
        return now.timeIntervalSince(finished) >= settle.timeInterval
    }
}

/// Compares image references the way a registry does (`nginx` == `docker.io/library/nginx`).
enum ImageMatch {
    /// Whether `running` (as Argo CD reports it) is the wanted reference.
    static func same(_ l: ImageReference, _ running: String) -> Bool {
        guard let r = try? ImageReference.parse(running) else { return l.description == running }
        guard l.name == r.name else { return false }
        if let ld = l.digest, let rd = r.digest { return ld == rd }
        return l.tag == r.tag
    }
}

enum ArgoDate {
    static func parse(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}

private struct ArgoError: Decodable { var message: String? }

private struct ArgoApplication: Decodable {
    struct Status: Decodable {
        struct Health: Decodable { var status: String?; var message: String? }
        struct Sync: Decodable { var status: String?; var revision: String? }
        struct Summary: Decodable { var images: [String]? }
        struct Operation: Decodable { var phase: String?; var finishedAt: String? }
        var health: Health?
        var sync: Sync?
        var summary: Summary?
        var operationState: Operation?
    }
    var status: Status?
}
