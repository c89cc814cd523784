import Foundation
import Testing
import TestSupport
@testable import Sandbox

/// `SandboxSeedParser`: every key of a seed file, and every problem with its position.
@Suite("Seed file parsing")
struct SeedParserTests {
    static let example = TestPaths.repositoryRoot() + "/examples/sandbox-seed.yaml"
    static let environment = ["ALICE_TOKEN": "alice-token-from-env", "BOB_TOKEN": "bob-token", "EMPTY": " "]

    /// Parses `yaml` as if it were `folder/seed.yaml`; returns the seed and each diagnostic as `line:col: error: message`.
    static func parse(_ yaml: String, folder: String = "/nonexistent", environment: [String: String] = environment)
        -> (seed: SandboxSeed?, problems: [String]) {
        let (seed, diagnostics) = SandboxSeedParser.parse(yaml: yaml, path: folder + "/seed.yaml", environment: environment)
        return (seed, diagnostics.map { "\($0.line):\($0.column): \($0.severity.rawValue): \($0.message)" })
    }

    @Test func registryProblemsArePositioned() {
        let (seed, problems) = Self.parse("""
        registry:
          tokenAuth: yes please
          images:
            - repository: Oms/App
              tags: [1.0]
            - repository: oms/web
              tags: ["bad tag"]
            - tags: [1.0]
        """)
        #expect(seed == nil)
        #expect(problems.count == 4, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("4:19: error: 'Oms/App' in image 1 of 'registry.images' is not a repository path") })
        #expect(problems.contains { $0.hasPrefix("7:14: error: 'bad tag' in image 2 of 'registry.images' is not a valid tag") })
        #expect(problems.contains { $0.contains("missing required key 'repository'") })
    }

    @Test func theShippedExampleUsesEveryKey() throws {
        let (seed, diagnostics) = SandboxSeedParser.load(path: Self.example, environment: Self.environment)
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.formatted))")
        let s = try #require(seed)

        #expect(s.users == [
            SandboxSeed.User(username: "alice", name: "Alice Maintainer", role: .maintainer, token: .environment("ALICE_TOKEN")),
            SandboxSeed.User(username: "promobot", role: .developer, token: .generated),
            SandboxSeed.User(username: "rita", role: .reporter, token: .generated),
        ])
        #expect(s.projects.map(\.path) == ["group/oms-deploy", "group/payments-deploy", "bench/deploy-1", "bench/deploy-2", "bench/deploy-3"])

        let oms = s.projects[0]
        #expect(oms.defaultBranch == "master")
        let imported = try String(contentsOfFile: TestPaths.repositoryRoot() + "/examples/oms-deploy/dev/app/deploy.yaml", encoding: .utf8)
        #expect(oms.files["dev/app/deploy.yaml"] == imported)
        #expect(oms.files["CODEOWNERS"] == "* @alice\n")
        #expect(oms.files.count == 11, "10 imported files and CODEOWNERS: \(oms.files.keys.sorted())")
        #expect(oms.protectedBranches == [SandboxSeed.ProtectedBranch(name: "master", allowPush: nil)])
        #expect(oms.approvalsRequired == 1)
        #expect(oms.mergeMethod == .ff)
        #expect(oms.resetApprovalsOnPush == true)
        #expect(oms.pipelineMustSucceed == false)

        let payments = s.projects[1]
        #expect(payments.defaultBranch == "main")
        #expect(payments.files == ["dev/deployment.yaml": "image: registry.example.com/payments/api:2.0.0\n",
                                   "prod/deployment.yaml": "image: registry.example.com/payments/api:1.9.0\n"])
        #expect(payments.protectedBranches == [SandboxSeed.ProtectedBranch(name: "main", allowPush: .maintainer)])
        #expect(payments.mergeMethod == .rebaseMerge)
        #expect(payments.approvalsRequired == nil && payments.resetApprovalsOnPush == nil && payments.pipelineMustSucceed == nil)

        #expect(s.projects[3].files == ["dev/app.yaml": "image: registry.example.com/bench/app-2:1.0.0\n",
                                        "prod/app.yaml": "image: registry.example.com/bench/app-2:0.9.0\n"])
        #expect(s.projects[3].protectedBranches == [SandboxSeed.ProtectedBranch(name: "main", allowPush: .maintainer)])

        #expect(s.argoApplications == [
            SandboxSeed.ArgoApplication(name: "oms-dev", health: "Healthy", sync: "Synced",
                                        images: ["registry.example.com/oms/app:1.5.0", "registry.example.com/oms/web:1.5.0"],
                                        syncedAgo: 3600, project: "group/oms-deploy", path: "dev"),
            SandboxSeed.ArgoApplication(name: "oms-prod", health: "Progressing", sync: "OutOfSync", images: ["registry.example.com/oms/app:1.4.0"]),
        ])
        #expect(s.registryImages == [SandboxSeed.RegistryImage(repository: "oms/app", tags: ["1.4.0", "1.4.2", "1.5.0"]),
                                     SandboxSeed.RegistryImage(repository: "oms/web", tags: ["1.4.0", "1.4.2", "1.5.0"])])
        #expect(s.registryTokenAuth == false)
        #expect(s.prometheus == [
            SandboxSeed.PrometheusValue(query: #"sum(rate(http_errors_total{env="dev"}[5m]))"#, value: 0.01),
            SandboxSeed.PrometheusValue(query: #"sum(rate(http_errors_total{env="prod"}[5m]))"#, value: 0),
            SandboxSeed.PrometheusValue(query: #"up{job="missing"}"#, value: nil),
        ])
    }

    @Test func anEmptyFileSeedsNothing() {
        let (seed, problems) = Self.parse("")
        #expect(problems.isEmpty)
        #expect(seed == SandboxSeed())
    }

    /// One problem per row: the seed text, and the diagnostic (`line:col: error: message`) it must produce.
    static let problems: [(yaml: String, expected: String)] = [
        ("projets: []\n", "1:1: error: unknown key 'projets' in the seed file (did you mean 'projects'?)"),
        ("- users\n", "1:1: error: the seed file must be a mapping of keys to values, found a list"),
        ("users: [\n", "2:1: error: invalid YAML: did not find expected node content (while parsing a flow node at line 2, column 1)"),
        ("users:\n  - username: bob\n    role: develper\n",
         "3:11: error: invalid role 'develper' in user 'bob': use one of reporter, developer, maintainer, admin (did you mean 'developer'?)"),
        ("users:\n  - username: bob\n", "2:5: error: missing required key 'role' in user 'bob' (one of reporter, developer, maintainer, admin)"),
        ("users:\n  - role: admin\n", "2:5: error: missing required key 'username' in user 1 of 'users'"),
        ("users:\n  - username: root\n    role: admin\n",
         "2:15: error: invalid username 'root': 'root' is the sandbox's built-in administrator: its token comes from SANDBOX_TOKEN or DATA/token"),
        ("users:\n  - username: a/b\n    role: admin\n", "2:15: error: invalid username 'a/b': use letters, digits, '_', '-' and '.'"),
        ("users:\n  - {username: bob, role: admin}\n  - {username: Bob, role: admin}\n", "3:16: error: user 'Bob' is already defined at line 2"),
        ("users:\n  - username: bob\n    role: admin\n    tokenEnv: NOT_SET\n",
         "4:15: error: the environment variable NOT_SET ('tokenEnv' in user 'bob') is not set: export it with the user's token, or remove 'tokenEnv' to have a token generated"),
        ("users:\n  - username: bob\n    role: admin\n    tokenEnv: EMPTY\n",
         "4:15: error: the environment variable EMPTY ('tokenEnv' in user 'bob') is empty: export it with the user's token, or remove 'tokenEnv' to have a token generated"),
        ("users:\n  - {username: a, role: admin, tokenEnv: BOB_TOKEN}\n  - {username: b, role: admin, tokenEnv: BOB_TOKEN}\n",
         "3:42: error: the environment variable BOB_TOKEN ('tokenEnv' in user 'b') holds the same token as user 'a': each user needs a token of its own"),
        ("projects:\n  - path: deploy\n", "2:11: error: invalid project path 'deploy' in project 1 of 'projects': it is not 'group/name': every project belongs to a group"),
        ("projects:\n  - path: group/.hidden\n", "2:11: error: invalid project path 'group/.hidden' in project 1 of 'projects': it has a segment starting with '.'"),
        ("projects:\n  - defaultBranch: main\n", "2:5: error: missing required key 'path' in project 1 of 'projects'"),
        ("projects:\n  - path: g/a\n  - path: G/A\n",
         "3:11: error: project 'G/A' is already defined at line 2: project paths must be unique (GitLab ignores case)"),
        ("projects:\n  - path: g/a\n    defaultBranch: a..b\n", "3:20: error: invalid branch name 'a..b' for 'defaultBranch' in project 'g/a': it is not a valid git branch name"),
        ("projects:\n  - path: g/a\n    files:\n      ../x: y\n", "4:7: error: invalid file path '../x' in 'files' in project 'g/a': it has a '.' or '..' segment"),
        ("projects:\n  - path: g/a\n    files:\n      a.yaml: {image: x}\n",
         "4:15: error: the content of 'a.yaml' in 'files' in project 'g/a' must be text (a block scalar '|' for several lines, '' for an empty file), found a mapping"),
        ("projects:\n  - path: g/a\n    mergeMethod: squash\n", "3:18: error: invalid merge method 'squash' in project 'g/a': use one of merge, rebase_merge, ff"),
        ("projects:\n  - path: g/a\n    approvalsRequired: -1\n", "3:24: error: 'approvalsRequired' in project 'g/a' must be between 0 and 100, found -1"),
        ("projects:\n  - path: g/a\n    pipelineMustSucceed: yes please\n",
         "3:26: error: 'pipelineMustSucceed' in project 'g/a' must be true or false, found 'yes please'"),
        ("projects:\n  - path: g/a\n    protectedBranches:\n      - name: main\n        push: maintainers\n",
         "5:15: error: invalid push access 'maintainers' for protected branch 'main' in project 'g/a': use one of no_one, developer, maintainer, admin (did you mean 'maintainer'?)"),
        ("projects:\n  - path: g/a\n    protectedBranches:\n      - {name: main}\n      - {name: main}\n",
         "5:16: error: branch 'main' is already protected at line 4 in project 'g/a'"),
        ("projects:\n  - path: g/a\n    import: no-such-folder\n",
         "3:13: error: cannot import 'no-such-folder' in project 'g/a': /nonexistent/no-such-folder is not a folder that can be listed (the path is relative to the seed file)"),
        ("projects:\n  - path: g/a\n    mergeMethd: ff\n", "3:5: error: unknown key 'mergeMethd' in project 1 of 'projects' (did you mean 'mergeMethod'?)"),
        ("generate:\n  - count: 2\n    path: bench/deploy\n", "3:11: error: 'path' in generator 1 of 'generate' must contain {n} (each project's number), e.g. bench/deploy-{n}"),
        ("generate:\n  - path: b/d-{n}\n", "2:5: error: missing required key 'count' in generator 1 of 'generate'"),
        ("generate:\n  - {count: 0, path: 'b/d-{n}'}\n",
         "2:13: error: 'count' in generator 1 of 'generate' must be between 1 and 10000, found 0: a seed creates at most 10000 projects"),
        ("projects:\n  - path: b/d-2\ngenerate:\n  - {count: 3, path: 'b/d-{n}'}\n",
         "4:22: error: the generated path 'b/d-2' (n = 2) is already defined at line 2: project paths must be unique (GitLab ignores case)"),
        ("argocd:\n  - name: app\n    health: healthy\n",
         "3:13: error: invalid health 'healthy' in application 'app': use one of Healthy, Progressing, Degraded, Suspended, Missing, Unknown (did you mean 'Healthy'?)"),
        ("argocd:\n  - name: app\n    sync: InSync\n", "3:11: error: invalid sync status 'InSync' in application 'app': use one of Synced, OutOfSync, Unknown"),
        ("argocd:\n  - name: app\n    syncedAgo: an hour\n",
         "3:16: error: invalid duration 'an hour' for 'syncedAgo' in application 'app': use a number and a unit (d, h, m, s), e.g. 30m, 2h, 1d or 1h30m"),
        ("projects:\n  - path: g/deploy\nargocd:\n  - name: app\n    project: g/deploi\n",
         "5:14: error: 'project' in application 'app' names no project of this seed: 'g/deploi' (did you mean 'g/deploy'?)"),
        ("argocd:\n  - {name: app}\n  - {name: app}\n", "3:12: error: application 'app' is already defined at line 2"),
        ("prometheus:\n  'up': high\n", "2:9: error: the value of query 'up' in 'prometheus' must be a number, found 'high'"),
        ("prometheus: [up]\n", "1:13: error: 'prometheus' (query -> value) must be a mapping of keys to values, found a list"),
    ]

    @Test(arguments: problems)
    func eachProblemIsReportedAtItsPosition(_ row: (yaml: String, expected: String)) {
        let (seed, problems) = Self.parse(row.yaml)
        #expect(seed == nil)
        #expect(problems == [row.expected])
    }

    /// Secrets are refused wherever they are written, and a refused value is never echoed.
    @Test(arguments: [
        ("users:\n  - username: bob\n    role: admin\n    token: glpat-secret-value\n",
         "4:5: error: 'token' in user 1 of 'users' would put a secret in the seed file: use 'tokenEnv' (the name of an environment variable), or leave it out to have a token generated into DATA/tokens/bob"),
        ("users:\n  - username: bob\n    role: admin\n    tokenEnv: glpat-secret-value\n",
         "4:15: error: 'tokenEnv' in user 'bob' must be the name of an environment variable (letters, digits and '_', like ALICE_TOKEN), not the token itself"),
        ("password: glpat-secret-value\n",
         "1:1: error: 'password' in the seed file would put a secret in the seed file: a user's token comes from 'tokenEnv' or is generated when the sandbox starts"),
        ("projects:\n  - path: g/a\n    deployToken: glpat-secret-value\n",
         "3:5: error: 'deployToken' in project 1 of 'projects' would put a secret in the seed file: a user's token comes from 'tokenEnv' or is generated when the sandbox starts"),
    ])
    func secretsAreRefusedWithoutEchoingThem(_ yaml: String, _ expected: String) {
        let (seed, problems) = Self.parse(yaml)
        #expect(seed == nil)
        #expect(problems == [expected])
        #expect(!problems.joined().contains("glpat-secret-value"))
    }

    @Test func everyProblemOfAFileIsReportedInOnePassSortedByPosition() {
        let yaml = """
            users:
              - {username: bob, role: boss}
            projects:
              - path: nogroup
                mergeMethod: fast
            argocd:
              - {name: app, sync: Unsynced}
            unknown: 1
            """
        let (seed, problems) = Self.parse(yaml)
        #expect(seed == nil)
        #expect(problems.map { $0.prefix(while: { $0 != " " }) } == ["2:27:", "4:11:", "5:18:", "7:23:", "8:1:"])
    }

    @Test func aGeneratorExpandsItsNumberInPathsFileNamesAndContents() throws {
        let yaml = """
            generate:
              - count: 50
                path: bench/deploy-{n}
                defaultBranch: release/{n}
                approvalsRequired: 2
                files:
                  apps/app-{n}.yaml: "image: app-{n}:1.0.{n}\\n"
            """
        let (seed, problems) = Self.parse(yaml)
        #expect(problems.isEmpty, "\(problems)")
        let projects = try #require(seed).projects
        #expect(projects.count == 50)
        #expect(projects.map(\.path) == (1...50).map { "bench/deploy-\($0)" })
        #expect(projects[41].files == ["apps/app-42.yaml": "image: app-42:1.0.42\n"])
        #expect(projects[41].defaultBranch == "release/{n}", "only the path, file paths and contents are templates")
        #expect(projects.allSatisfy { $0.approvalsRequired == 2 })
    }

    @Test func importReadsAFolderRelativeToTheSeedFileAndFilesOverrideIt() throws {
        let folder = try TestPaths.temporaryFolder("seed-import")
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("repo")
        try FileManager.default.createDirectory(at: source.appendingPathComponent("dev/app"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: source.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try "image: app:1\n".write(to: source.appendingPathComponent("dev/app/deploy.yaml"), atomically: true, encoding: .utf8)
        try "old\n".write(to: source.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        try "hidden\n".write(to: source.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        try "ref: x\n".write(to: source.appendingPathComponent(".git/HEAD"), atomically: true, encoding: .utf8)

        let yaml = "projects:\n  - path: g/a\n    import: repo\n    files:\n      README.md: new\n"
        let (seed, problems) = Self.parse(yaml, folder: folder.path)
        #expect(problems.isEmpty, "\(problems)")
        #expect(try #require(seed).projects.first?.files == ["dev/app/deploy.yaml": "image: app:1\n", "README.md": "new"])

        try FileManager.default.removeItem(at: source.appendingPathComponent("dev"))
        try FileManager.default.removeItem(at: source.appendingPathComponent("README.md"))
        let empty = Self.parse("projects:\n  - path: g/a\n    import: repo\n", folder: folder.path)
        #expect(empty.problems == ["3:13: error: cannot import 'repo' in project 'g/a': the folder holds no files (hidden ones are skipped)"])
    }

    @Test func aFileThatCannotBeReadIsOneWholeFileDiagnostic() {
        let (seed, diagnostics) = SandboxSeedParser.load(path: "/nonexistent/seed.yaml", environment: [:])
        #expect(seed == nil)
        #expect(diagnostics.map(\.formatted) == ["/nonexistent/seed.yaml: error: cannot read the file: it does not exist"])
    }
}

extension SeedParserTests {
    /// docs/sandbox.md shows the example whole (from `users:` on), so the two cannot drift apart.
    @Test func theDocumentationShowsTheShippedExample() throws {
        let example = try String(contentsOfFile: Self.example, encoding: .utf8)
        let body = try #require(example.range(of: "users:\n")).lowerBound
        let docs = try String(contentsOfFile: TestPaths.repositoryRoot() + "/docs/sandbox.md", encoding: .utf8)
        #expect(docs.contains("```yaml\n" + example[body...] + "```\n"))
    }
}
