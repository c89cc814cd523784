import Foundation
import Testing
import GitLab
import HTTP
import Sandbox
import TestSupport

/// `hooks`, `createHook`, `updateHook` and `deleteHook` against the sandbox, and a hook made by the client delivering.
@Suite struct GitLabHookTests {
    static let hookSecret = "whsec-HOOKSECRET-\(UUID().uuidString)"

    @Test func createListUpdateDelete() async throws {
        try await withSandbox { h in
            let client = h.client()
            #expect(try await client.hooks(h.project).isEmpty)
            let settings = ProjectHookSettings(url: "http://127.0.0.1:9/hooks/gitlab", token: HookToken(Self.hookSecret), name: "promobot",
                                               events: ProjectHookEvents(push: true, mergeRequests: true, pipelines: true))
            let created = try await client.createHook(h.project, settings)
            #expect(created.url == "http://127.0.0.1:9/hooks/gitlab")
            #expect(created.name == "promobot")
            #expect(created.events == ProjectHookEvents(push: true, mergeRequests: true, pipelines: true))
            #expect(created.events.description == "push, merge requests, pipelines")
            #expect(created.enableSSLVerification)
            #expect(created.alertStatus == "executable")
            #expect(created.projectID == h.sandbox.project(SandboxHarness.projectPath)?.id)
            #expect(h.sandbox.webhooks(project: SandboxHarness.projectPath).map(\.hasToken) == [true])
            #expect(try await client.hooks(h.project) == [created])

            var changed = settings
            changed.events.pipelines = false
            changed.events.pushBranchFilter = "main"
            let updated = try await client.updateHook(h.project, id: created.id, changed)
            #expect(updated.id == created.id)
            #expect(!updated.events.pipelines)
            #expect(updated.events.pushBranchFilter == "main")
            // Moving the hook without a token drops the token, as GitLab does.
            let moved = try await client.updateHook(h.project, id: created.id, ProjectHookSettings(url: "http://127.0.0.1:9/elsewhere"))
            #expect(moved.url == "http://127.0.0.1:9/elsewhere")
            #expect(h.sandbox.webhooks(project: SandboxHarness.projectPath).map(\.hasToken) == [false])

            #expect(try await client.deleteHook(h.project, id: created.id) == true)
            #expect(try await client.deleteHook(h.project, id: created.id) == false)
            #expect(try await client.hooks(h.project).isEmpty)
            let missing = await #expect(throws: GitLabError.self) { try await client.updateHook(h.project, id: created.id, settings) }
            #expect(missing?.kind == .notFound)
            let noProject = await #expect(throws: GitLabError.self) { try await client.deleteHook(.path("nope/missing"), id: 1) }
            #expect(noProject?.kind == .notFound)
        }
    }

    @Test func refusalsNameTheCauseAndNeverTheToken() async throws {
        try await withSandbox { h in
            let settings = ProjectHookSettings(url: "http://127.0.0.1:9/hooks/gitlab", token: HookToken(Self.hookSecret))
            // Hooks need Maintainer: a developer's token is refused, reads included.
            let reviewer = h.client(token: h.reviewerToken)
            let forbidden = await #expect(throws: GitLabError.self) { try await reviewer.createHook(h.project, settings) }
            #expect(forbidden?.kind == .forbidden)
            let read = await #expect(throws: GitLabError.self) { try await reviewer.hooks(h.project) }
            #expect(read?.kind == .forbidden)
            let bad = await #expect(throws: GitLabError.self) {
                try await h.client().createHook(h.project, ProjectHookSettings(url: "not a url", token: HookToken(Self.hookSecret)))
            }
            #expect(bad?.kind == .unprocessable)
            #expect(bad?.message.contains("Invalid url given") == true)
            for error in [forbidden, read, bad].compactMap({ $0 }) {
                expectNoSecrets(error, h)
                #expect(!String(describing: error).contains(Self.hookSecret))
            }
            // The token hides from interpolation and dumps.
            var dumped = ""
            dump(settings, to: &dumped)
            for text in [String(describing: settings), String(reflecting: settings), dumped, "\(settings.token!)"] {
                #expect(!text.contains(Self.hookSecret), "\(text)")
            }
        }
    }

    @Test func aHookMadeByTheClientDeliversWithItsToken() async throws {
        try await withSandbox { h in
            try await withWebhookReceiver { receiver in
                let hook = try await h.client().createHook(h.project, ProjectHookSettings(
                    url: receiver.url, token: HookToken(Self.hookSecret), events: ProjectHookEvents(push: true, mergeRequests: true)))
                let mr = try await h.openMergeRequest(h.client(), branch: "promote/app")
                await h.sandbox.waitForWebhookDeliveries()
                let got = try await receiver.waitForRequests(2)
                #expect(got.map { $0.header("X-Gitlab-Event") } == ["Push Hook", "Merge Request Hook"])
                #expect(got.allSatisfy { $0.header("X-Gitlab-Token") == Self.hookSecret })
                #expect((got[1].json["object_attributes"] as? [String: Any])?["iid"] as? Int == mr.iid)
                #expect(h.sandbox.webhookDeliveries(project: SandboxHarness.projectPath).allSatisfy { $0.hookID == hook.id && $0.succeeded })
            }
        }
    }
}
