import Foundation
import Testing
@testable import Policies

@Suite struct PolicyLoaderTests {
    @Test func theRepositoryPoliciesAreClean() throws {
        let folder = PolicyFixtures.repositoryRoot() + "/policies"
        let set = PolicyLoader.load(paths: [folder])
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics.map(\.formatted))")
        #expect(set.files.map { ($0 as NSString).lastPathComponent } == ["oms.yaml", "payments.yaml"])
        #expect(set.policies.map(\.name) == ["oms", "payments"])
        let oms = try #require(set.policies.first)
        #expect(oms.images == ["registry.example.com/oms/app", "registry.example.com/oms/web"])
        #expect(oms.stages.map(\.paths) == [["dev/"], ["test/"], ["prod/"]])
        #expect(oms.stages.allSatisfy { $0.repository == "group/oms-deploy" && $0.branch == "master" })
        let payments = try #require(set.policies.last)
        #expect(payments.stages.last?.repository == "group/payments-prod" && payments.stages.last?.branch == "main")
    }

    @Test func theExampleConfigIsClean() throws {
        let path = PolicyFixtures.repositoryRoot() + "/promobot.yaml"
        let yaml = try String(contentsOfFile: path, encoding: .utf8)
        let (config, diagnostics) = ConfigParser.parse(yaml: yaml, path: path, environment: [:])
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.formatted))")
        #expect(config?.gitlab == ServiceEndpoint(url: "https://gitlab.example.com", tokenEnv: "GITLAB_TOKEN"))
    }

    @Test func duplicateNamesAcrossFiles() throws {
        let folder = try PolicyFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let nested = folder.appendingPathComponent("team")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        try PolicyFixtures.base.write(to: folder.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        try PolicyFixtures.base.write(to: nested.appendingPathComponent("b.yml"), atomically: true, encoding: .utf8)
        let other = PolicyFixtures.base.replacingOccurrences(of: "name: oms", with: "name: other")
        try other.write(to: folder.appendingPathComponent("c.yaml"), atomically: true, encoding: .utf8)
        try "not: a policy".write(to: folder.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        try "gitlab: {}".write(to: folder.appendingPathComponent("promobot.yaml"), atomically: true, encoding: .utf8)
        try "broken".write(to: folder.appendingPathComponent(".hidden.yaml"), atomically: true, encoding: .utf8)

        let root = folder.path
        let set = PolicyLoader.load(paths: [root])
        #expect(set.files == ["\(root)/a.yaml", "\(root)/c.yaml", "\(root)/team/b.yml"])
        #expect(set.diagnostics.map(\.formatted) == [
            "\(root)/team/b.yml:2:7: error: duplicate policy name 'oms': already used at \(root)/a.yaml:2:7; policy names must be unique",
        ])
        #expect(set.policies.map(\.name) == ["other"], "both copies of a duplicated name are left out")
    }

    @Test func missingPathsAndEmptyFolders() throws {
        let folder = try PolicyFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let set = PolicyLoader.load(paths: [folder.path, folder.path + "/nope.yaml"])
        #expect(set.diagnostics.map(\.formatted) == [
            "\(folder.path): warning: no policy files (*.yaml, *.yml) in this folder",
            "\(folder.path)/nope.yaml: error: no such file or folder",
        ])
        #expect(set.hasErrors)
    }

    @Test func checkIsPureAndKeepsFileOrder() {
        let set = PolicyLoader.check(sources: [
            ("x.yaml", PolicyFixtures.base.replacingOccurrences(of: "name: oms", with: "name: zeta")),
            ("y.yaml", PolicyFixtures.base),
            ("z.yaml", "version: 1\nname: zeta\n"),
        ])
        #expect(set.policies.map(\.name) == ["oms"])
        #expect(set.diagnostics.map(\.formatted) == [
            "z.yaml:1:1: error: missing required key 'images' in policy 'zeta'",
            "z.yaml:1:1: error: missing required key 'stages' in policy 'zeta'",
            "z.yaml:2:7: error: duplicate policy name 'zeta': already used at x.yaml:2:7; policy names must be unique",
        ])
    }
}
