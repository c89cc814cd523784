import Foundation
import Testing
import TestSupport
@testable import Sandbox

/// `TestSupport.withSandbox`, the one helper every suite runs its sandbox through: the server listens on
/// loopback while the body runs, and afterwards neither the server nor its folder is left, however the body ends.
@Suite struct WithSandboxTests {
    struct Planned: Error {}

    @Test func aThrowingBodyLeavesNoFolderAndNoServer() async throws {
        var seen: (folder: URL, port: Int)?
        await #expect(throws: Planned.self) {
            try await withSandbox("with-sandbox-throws") { sandbox, folder in
                seen = (folder, try #require(sandbox.baseURL.port))
                sandbox.addUser("bot", token: "bot-token", role: .maintainer)
                try sandbox.createProject(path: "group/deploy", files: ["a.yaml": "a: 1\n"])
                #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("sandbox").path))
                throw Planned()
            }
        }
        let (folder, port) = try #require(seen)
        #expect(!FileManager.default.fileExists(atPath: folder.path), "left behind: \(folder.path)")
        #expect(!Loopback.accepts(port), "still listening on \(port)")
    }

    @Test func aReturningBodyGivesItsValueAndLeavesNoFolderAndNoServer() async throws {
        let (folder, port, status) = try await withSandbox("with-sandbox-returns") { sandbox, folder in
            let url = try #require(sandbox.baseURL.port)
            #expect(sandbox.baseURL.host == "127.0.0.1")
            #expect(Loopback.accepts(url))
            let health = try await Curl.request("GET", sandbox.baseURL.absoluteString + "/-/health")
            return (folder, url, health.status)
        }
        #expect(status == 200)
        #expect(!FileManager.default.fileExists(atPath: folder.path), "left behind: \(folder.path)")
        #expect(!Loopback.accepts(port), "still listening on \(port)")
    }
}
